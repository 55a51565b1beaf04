#!/usr/bin/env bash
# The whole test suite: lint, then pytest against its own PostgreSQL, Kafka broker and local AWS endpoint.
# Test services use separate ports and a fresh state directory, so a running `make up` is untouched.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PIPELINE_PROJECT_ROOT="$PWD"  # devstack (tools/) runs the stack from this checkout

export STATE_DIR="${TEST_STATE_DIR:-$PWD/.state/test}"
export KAFKA_PORT="${TEST_KAFKA_PORT:-19092}"
export KAFKA_CONTROLLER_PORT="${TEST_KAFKA_CONTROLLER_PORT:-19093}"
export LOCAL_AWS_PORT="${TEST_LOCAL_AWS_PORT:-14566}"
export AIRFLOW_API_PORT="${TEST_AIRFLOW_API_PORT:-18080}"
export POSTGRES_PORT="${TEST_POSTGRES_PORT:-15432}"
export REDIS_PORT="${TEST_REDIS_PORT:-16379}"
# Start* calls on the local endpoint wait up to this long for completion, so pollers finish fast.
export LOCAL_AWS_SYNC_WAIT="${LOCAL_AWS_SYNC_WAIT:-5}"
export PYTHONUNBUFFERED=1

echo "== lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --check .; exit 1; }

scripts/ensure_chromium.sh

.venv/bin/python -m devstack stop >/dev/null 2>&1 || true
rm -rf "$STATE_DIR"
trap '.venv/bin/python -m devstack stop' EXIT
echo "== services"
.venv/bin/python -m devstack services

echo "== pytest"
mkdir -p test-artifacts
.venv/bin/pytest -p no:cacheprovider -ra --timeout=900 --junitxml=test-artifacts/junit.xml "$@"
