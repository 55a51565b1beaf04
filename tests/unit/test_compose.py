"""docker-compose.yaml cannot run here (no Docker engine), so its structure is checked instead."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.support import ROOT

AIRFLOW_SERVICES = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_expected_services(compose):
    services = set(compose["services"])
    assert {"postgres", "kafka", "local-aws", "airflow-init", *AIRFLOW_SERVICES} <= services


def test_images_are_pinned(compose):
    for name, service in compose["services"].items():
        image = service.get("image")
        if "build" in service:
            continue
        assert image and ":" in image and not image.endswith(":latest"), f"{name} image is not pinned: {image}"
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:4.")


def test_postgres_matches_the_local_stack(compose):
    """Same PostgreSQL major as `make up`'s server, and the same driver (psycopg 3) in the URL."""
    from devstack.postgres import POSTGRES_MAJOR

    image = compose["services"]["postgres"]["image"]
    assert re.fullmatch(rf"postgres:{POSTGRES_MAJOR}\.\d+(-[a-z]+)?", image), image
    url = compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert url.startswith("postgresql+psycopg://")
    lock = (ROOT / "uv.lock").read_text()
    assert 'name = "psycopg"' in lock and 'name = "asyncpg"' in lock, "sync and async drivers are locked"


def test_the_local_postgres_binaries_are_the_pinned_major():
    """The server `make up` runs is the major docker-compose pins (skipped where none is installed yet)."""
    from devstack.postgres import POSTGRES_MAJOR, find_binaries

    bins = find_binaries()
    if bins is None:
        pytest.skip("no PostgreSQL binaries yet: `make services` installs them")
    assert bins.major == POSTGRES_MAJOR, bins


def test_kafka_is_kraft(compose):
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "zookeeper" not in json.dumps(compose).lower()


def test_long_running_services_have_healthchecks(compose):
    for name in ("postgres", "kafka", "local-aws", *AIRFLOW_SERVICES):
        assert "healthcheck" in compose["services"][name], f"{name} has no healthcheck"


def test_airflow_waits_for_init_and_services(compose):
    for name in AIRFLOW_SERVICES:
        deps = compose["services"][name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
        for dep in ("postgres", "kafka", "local-aws"):
            assert deps[dep]["condition"] == "service_healthy"
    assert "db migrate" in json.dumps(compose["services"]["airflow-init"]["command"])


def dockerfile_stages() -> dict[str, list[str]]:
    """Stage name -> its instructions (continuation lines joined), in file order."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = stages.setdefault(match.group(2), [line])
        else:
            current.append(line)
    return stages


def stage_chain(stages: dict[str, list[str]], name: str) -> list[str]:
    """The instructions of a stage and of the stages it is built FROM, base first."""
    parent = stages[name][0].split()[1]
    return (stage_chain(stages, parent) if parent in stages else []) + stages[name]


def uv_syncs(instructions: list[str]) -> list[str]:
    return [cmd for line in instructions for cmd in re.findall(r"uv sync[^&]*", line)]


def test_airflow_image_is_built_from_the_lock(compose):
    stages = dockerfile_stages()
    assert list(stages)[-1] == "pipeline", "the product stage must be the default (last) build target"
    pipeline = stage_chain(stages, "pipeline")
    assert any(line.startswith("COPY pyproject.toml uv.lock") for line in pipeline)
    assert uv_syncs(pipeline) and all(cmd.startswith("uv sync --frozen") for cmd in uv_syncs(pipeline))
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        assert compose["services"][name]["build"] == {"context": ".", "target": "pipeline"}, name
    pinned = re.search(r'name = "apache-airflow"\nversion = "([^"]+)"', (ROOT / "uv.lock").read_text())
    assert pinned and pinned.group(1) == "3.3.2"


def test_product_image_carries_no_development_tools():
    """The Airflow image installs the product alone: no dev group, no tools/ workspace member."""
    pipeline = stage_chain(dockerfile_stages(), "pipeline")
    for cmd in uv_syncs(pipeline):
        assert "--no-dev" in cmd, cmd
        assert not re.search(r"--(group|only-group|all-groups|package|all-packages)\b", cmd), cmd
    copied = [line.split()[1:-1] for line in pipeline if line.startswith("COPY")]
    assert ["tools"] not in copied and not any(src.startswith("tools/local_aws") for srcs in copied for src in srcs)


def test_local_aws_runs_from_the_devtools_image(compose):
    service = compose["services"]["local-aws"]
    assert service["build"] == {"context": ".", "target": "devtools"}
    assert service["image"] != compose["services"]["airflow-scheduler"]["image"]
    assert service["command"][:3] == ["python", "-m", "local_aws"]
    devtools = stage_chain(dockerfile_stages(), "devtools")
    syncs = uv_syncs(devtools)
    assert syncs and all("--package stock-market-devtools" in cmd and "--no-dev" in cmd for cmd in syncs)
    assert any(line.split()[1:] == ["tools", "./tools"] for line in devtools if line.startswith("COPY"))


def test_connections_match_the_local_stack(compose):
    """Same connection ids, types and extra keys as `make up`; only hosts differ."""
    from devstack.config import StackConfig, connections_env

    local = connections_env(StackConfig())
    for name in AIRFLOW_SERVICES:
        env = compose["services"][name]["environment"]
        conn_vars = {k: v for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}
        assert set(conn_vars) == set(local), name
        for key, value in conn_vars.items():
            theirs, ours = json.loads(value), json.loads(local[key])
            assert theirs["conn_type"] == ours["conn_type"], key
            assert set(theirs.get("extra", {})) == set(ours.get("extra", {})), key
            assert theirs.get("schema") == ours.get("schema"), key
    aws = json.loads(compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW_CONN_AWS_DEFAULT"])
    assert aws["extra"]["endpoint_url"] == "http://local-aws:4566"


CELERY_WORKERS = ("airflow-worker-1", "airflow-worker-2")


def test_celery_profile_runs_redis_and_two_workers_beside_the_default_stack(compose):
    """`docker compose --profile celery up` adds what `make up EXECUTOR=celery` runs; plain `up` is unchanged."""
    services = compose["services"]
    for name in ("redis", *CELERY_WORKERS):
        assert services[name].get("profiles") == ["celery"], name
    for name in ("postgres", "kafka", "local-aws", "airflow-init", *AIRFLOW_SERVICES):
        assert "profiles" not in services[name], f"{name} must start without a profile"
    hostnames = [services[name]["hostname"] for name in CELERY_WORKERS]
    assert len(set(hostnames)) == 2, "task_instance.hostname must tell the workers apart"
    for name in CELERY_WORKERS:
        service = services[name]
        assert service["command"][:3] == ["airflow", "celery", "worker"]
        assert service["build"] == {"context": ".", "target": "pipeline"}
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert "healthcheck" in service
    assert "healthcheck" in services["redis"]


def test_celery_settings_match_the_local_stack(compose):
    """Executor switchable by one variable; broker, result backend and slots as devstack sets them."""
    from devstack.config import StackConfig, airflow_env

    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert (
        env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        and "@redis:6379/" in env["AIRFLOW__CELERY__BROKER_URL"]
    )
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    local = airflow_env(StackConfig(executor="celery"))
    assert {k for k in env if k.startswith("AIRFLOW__CELERY")} == {k for k in local if k.startswith("AIRFLOW__CELERY")}
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == local["AIRFLOW__CELERY__WORKER_CONCURRENCY"]
    major_minor = re.fullmatch(r"redis:(\d+\.\d+)\.\d+-[a-z]+", compose["services"]["redis"]["image"])
    assert major_minor and major_minor.group(1) == "7.0", "the same Redis as Debian's redis-server (7.0)"


def test_the_pipeline_start_date_is_required_and_shared(compose):
    """Ingest and catalog need PIPELINE_START_DATE; compose refuses to start without it (from .env)."""
    for name in (*AIRFLOW_SERVICES, *CELERY_WORKERS, "airflow-init"):  # workers parse the DAGs too
        value = compose["services"][name]["environment"]["PIPELINE_START_DATE"]
        assert value.startswith("${PIPELINE_START_DATE:?"), (name, value)
