#!/usr/bin/env bash
# Create the project virtualenv from the lock file. Installs uv (pinned) if it is not on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV_VERSION="${UV_VERSION:-0.13.9}"
PYTHON="${PYTHON:-python3}"

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "Python 3.11+ is required (found $("$PYTHON" --version 2>&1)); set PYTHON=python3.11" >&2; exit 1; }

if ! command -v uv >/dev/null 2>&1; then
  echo "[bootstrap] installing uv $UV_VERSION"
  "$PYTHON" -m pip install --quiet --user "uv==$UV_VERSION" 2>/dev/null \
    || "$PYTHON" -m pip install --quiet "uv==$UV_VERSION"
  export PATH="$("$PYTHON" -m site --user-base)/bin:$PATH"
fi
echo "[bootstrap] installing the locked dependencies into .venv"
uv sync --frozen --python "$PYTHON"
