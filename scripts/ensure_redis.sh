#!/usr/bin/env bash
# Redis server binary for the local stack's CeleryExecutor broker (`make up EXECUTOR=celery`; no Docker,
# no system service). Installs Debian's redis-server when run as root with apt, as ensure_postgres.sh
# does for PostgreSQL; otherwise says what to install. devstack finds it (tools/devstack/redis.py).
set -euo pipefail
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "[redis] installing Debian's redis-server (the Celery broker of the local stack)" >&2
  # Only the binary: the package must not start a system-wide server on 6379 (the stack runs its own
  # under .state/), so service starts are denied while it installs.
  policy=/usr/sbin/policy-rc.d
  had_policy=0
  [[ -e $policy ]] && had_policy=1
  if [[ $had_policy -eq 0 ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq >/dev/null
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; then
    echo "[redis] redis-server is not in this system's apt sources; install Redis 7 and put" \
         "redis-server on PATH (or set REDIS_SERVER to it)" >&2
    exit 1
  fi
else
  echo "[redis] no redis-server found: install Redis 7 (e.g. sudo apt-get install redis-server, or your" \
       "system's package) and put redis-server on PATH, or set REDIS_SERVER to it" >&2
  exit 1
fi
