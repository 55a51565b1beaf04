#!/usr/bin/env bash
# Benchmarks (not tests): each prints its figures; they run against their own services.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PIPELINE_PROJECT_ROOT="$PWD"  # devstack (tools/) runs the stack from this checkout
export STATE_DIR="${BENCH_STATE_DIR:-$PWD/.state/bench}"
export KAFKA_PORT="${BENCH_KAFKA_PORT:-29092}"
export KAFKA_CONTROLLER_PORT="${BENCH_KAFKA_CONTROLLER_PORT:-29093}"
export LOCAL_AWS_PORT="${BENCH_LOCAL_AWS_PORT:-24566}"
export LOCAL_AWS_SYNC_WAIT="${LOCAL_AWS_SYNC_WAIT:-30}"
export KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
export LOCAL_AWS_ENDPOINT="http://127.0.0.1:$LOCAL_AWS_PORT"
rm -rf "$STATE_DIR"
trap '.venv/bin/python -m devstack stop' EXIT
.venv/bin/python -m devstack services
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sm)"
for bench in bench/bench_*.py; do
  if [[ -n "${BENCH:-}" && "$bench" != *"$BENCH"* ]]; then continue; fi
  echo; echo "== $bench"
  .venv/bin/python "$bench"
done
