#!/usr/bin/env bash
# Installs the python-socketio client into .cache/pyclient (a venv), for the
# interop test that proves a Python client works with the server unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/pyclient
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import socketio, requests, websocket" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "python-socketio[client]>=5.11,<6" "requests>=2.31,<3"
fi
echo "python client ready in $venv"
