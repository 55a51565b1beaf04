# The local stack and the project's commands. Every target installs what it needs first.
#   make up       the whole pipeline locally (PostgreSQL, Kafka, local AWS endpoint, Airflow UI on :8080)
#   make test     the whole test suite, with its own services on separate ports
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SYNCED := $(VENV)/.synced
# devstack (tools/) is an installed package: it learns where the checkout is from this variable.
export PIPELINE_PROJECT_ROOT := $(CURDIR)

.PHONY: install services up stop status restart airflow test bench compat-table lint fmt clean-state help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(SYNCED) ## create .venv from uv.lock (uv is installed if missing)

$(SYNCED): pyproject.toml tools/pyproject.toml uv.lock scripts/bootstrap.sh
	@scripts/bootstrap.sh
	@touch $@

services: install ## start PostgreSQL, Kafka and the local AWS endpoint in the background
	@$(PY) -m devstack services

up: install ## run the whole pipeline: services + Airflow in the foreground; Ctrl-C stops what it started
	@$(PY) -m devstack up

stop: install ## stop what `make services` / `make up` started (data is kept)
	@$(PY) -m devstack stop

status: install ## show which parts of the stack are running
	@$(PY) -m devstack status

restart: install ## restart one service, data kept: make restart SERVICE=kafka|local-aws|postgres
	@$(PY) -m devstack restart $(SERVICE)

airflow: install ## the Airflow CLI with the stack's configuration: make airflow ARGS="dags list"
	@scripts/airflow $(ARGS)

test: install ## run the whole test suite (starts and stops its own services)
	@scripts/test.sh

bench: install ## run the benchmarks (starts and stops its own services)
	@scripts/bench.sh

compat-table: install ## run the Athena conformance corpus and rewrite the README's compatibility table
	@$(VENV)/bin/pytest -p no:cacheprovider -q tests/integration/local_aws/conformance || true
	@$(PY) -m tests.integration.local_aws.conformance.compat_table --write README.md

lint: install ## ruff
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

fmt: install
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

clean-state: ## stop the stack and delete all local data (topics, objects, catalog, Airflow's PostgreSQL)
	@$(PY) -m devstack stop || true
	rm -rf .state
