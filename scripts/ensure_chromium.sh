#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (no browser download: this must work offline).
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "[chromium] installing Debian's chromium for the browser tests"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "[chromium] $CHROMIUM not found: install chromium (e.g. sudo apt-get install chromium)" \
       "or set CHROMIUM_PATH; the browser tests need it" >&2
  exit 1
fi
