#!/usr/bin/env bash
# Installs the seed-like peer's Python packages (FastAPI, uvicorn, Motor, PyJWT,
# python-socketio; pinned in bench/peers/seed-requirements.txt) into .cache/seedpeer
# (a venv), for the REST scenario of the benchmark (target seed-fastapi).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/seedpeer
req=bench/peers/seed-requirements.txt
python=$(command -v python3.11 || command -v python3)
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$stamp" || ! "$venv/bin/python" -c "import fastapi, uvicorn, motor, jwt, socketio, uvloop" 2>/dev/null; then
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
fi
echo "seed peer ready in $venv ($("$venv/bin/python" --version))"
