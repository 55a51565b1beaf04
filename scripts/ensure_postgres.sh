#!/usr/bin/env bash
# PostgreSQL server binaries for the local stack's metadata database (no Docker, no system service).
# Installs Debian's postgresql-$POSTGRES_MAJOR when run as root with apt, as ensure_chromium.sh does for
# the browser; otherwise says what to install. devstack finds the binaries (tools/devstack/postgres.py).
set -euo pipefail
MAJOR="${POSTGRES_MAJOR:-15}"
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "[postgres] installing Debian's postgresql-$MAJOR (server binaries for the metadata DB)" >&2
  # Only the binaries: no system-wide cluster on port 5432 (the stack runs its own server under .state/).
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/stock-market-pipeline.conf
  apt-get update -qq >/dev/null
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$MAJOR" >/dev/null; then
    echo "[postgres] postgresql-$MAJOR is not in this system's apt sources; install PostgreSQL $MAJOR" \
         "and set POSTGRES_BIN_DIR to its bin directory" >&2
    exit 1
  fi
else
  echo "[postgres] no PostgreSQL server binaries found: install PostgreSQL $MAJOR" \
       "(e.g. sudo apt-get install postgresql-$MAJOR, or your system's package) and make pg_ctl reachable" \
       "on PATH, or set POSTGRES_BIN_DIR to its bin directory" >&2
  exit 1
fi
