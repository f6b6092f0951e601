#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser test (test/browser):
# installs it with apt when missing and we are root; never downloads a browser build.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium ready: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing chromium from Debian's packages (browser test)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser test needs Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'." >&2
exit 1
