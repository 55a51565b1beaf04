# Two images from one uv.lock, for docker-compose.yaml:
#   pipeline (the default, last stage)  Airflow 3.3.2 and the product: dags/, plugins/, include/ and their
#                                       runtime dependencies only (no dev group, no tools/)
#   devtools                            the local AWS endpoint (tools/local_aws), a development stand-in
#                                       used only by the compose stack's local-aws service
FROM python:3.11.7-slim-bookworm AS base

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow

RUN pip install --no-cache-dir uv==0.13.9 \
    && apt-get update && apt-get install -y --no-install-recommends curl tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 50000 airflow

WORKDIR /opt/project
# The workspace definition (uv reads every member's pyproject.toml to use the lock).
COPY pyproject.toml uv.lock README.md ./
COPY tools/pyproject.toml ./tools/pyproject.toml
RUN mkdir -p /opt/airflow /state && chown -R airflow /opt/airflow /state
ENTRYPOINT ["/usr/bin/tini", "--"]

FROM base AS devtools
# Only the devtools workspace member and its dependencies (moto, DuckDB, sqlglot, pyarrow).
RUN uv sync --frozen --no-dev --package stock-market-devtools --no-install-workspace
COPY tools ./tools
RUN uv sync --frozen --no-dev --package stock-market-devtools --no-editable
USER airflow
CMD ["python", "-m", "local_aws", "--help"]

FROM base AS pipeline
# Dependencies first (cached layer), then the project itself; --no-dev leaves tools/ out.
RUN uv sync --frozen --no-dev --extra postgres --no-install-project
COPY include ./include
COPY dags ./dags
COPY plugins ./plugins
RUN uv sync --frozen --no-dev --extra postgres
USER airflow
CMD ["airflow", "version"]
