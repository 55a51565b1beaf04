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


def test_airflow_image_is_built_from_the_lock(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"uv sync --frozen", dockerfile)
    assert "COPY pyproject.toml uv.lock" in dockerfile
    pinned = re.search(r'name = "apache-airflow"\nversion = "([^"]+)"', (ROOT / "uv.lock").read_text())
    assert pinned and pinned.group(1) == "3.3.2"


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
