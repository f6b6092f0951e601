#!/usr/bin/env bash
# Test preparation for cluster mode: redis-server, haproxy and nginx from Debian's apt, installed when missing
# (apt-get update first only when a package is not known to apt yet). Needs root (as in CI containers); without
# it, says what to install and leaves the cluster tests to report them missing.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -eq 0 ]; then
  echo "prepare-redis: redis-server, haproxy and nginx present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prepare-redis: please install: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
  exit 0
fi
if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then apt-get update -qq; fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
echo "prepare-redis: installed ${missing[*]}"
