# The project image: Airflow 3.3.2 and the pipeline, installed from the same uv.lock as the local stack.
# Used by docker-compose.yaml for the Airflow components and the local AWS endpoint.
FROM python:3.11.7-slim-bookworm

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
# Dependencies first (cached layer), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY include ./include
COPY dags ./dags
COPY plugins ./plugins
RUN uv sync --frozen --no-dev && mkdir -p /opt/airflow /state && chown -R airflow /opt/airflow /state

USER airflow
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
