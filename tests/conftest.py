"""Shared fixtures: the real Kafka broker, the local AWS endpoint, and a migrated Airflow metadata DB.

`make test` starts the services (PostgreSQL, Kafka, the endpoint) before pytest runs (scripts/test.sh). Integration tests fail with
a clear message, rather than skip, when a service they need is not reachable: a skipped integration
test would pass when the thing it tests is missing.

Environment is fixed here, at import time, before any test module imports Airflow.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.processes import port_open
from tests.support import ROOT, wait_for

STATE_DIR = Path(os.environ.get("STATE_DIR", ROOT / ".state"))

KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:" + os.environ.get("KAFKA_PORT", "9092"))
AWS_ENDPOINT = os.environ.get("LOCAL_AWS_ENDPOINT", "http://127.0.0.1:" + os.environ.get("LOCAL_AWS_PORT", "4566"))
AWS_REGION = "us-east-1"

# A per-session Airflow home: tests never touch a developer's ~/airflow or the `make up` stack.
_TEST_AIRFLOW_HOME = Path(os.environ.get("TEST_AIRFLOW_HOME", STATE_DIR / "test-airflow" / f"session-{os.getpid()}"))
# dag.test()'s metadata: a fresh database per session on the services' PostgreSQL server (the real-scheduler
# stack gets another one); AIRFLOW__DATABASE__SQL_ALCHEMY_CONN set by hand still wins.
_SESSION_DB = f"airflow_session_{os.getpid()}"


def _set_default_env() -> None:
    env = {
        "AIRFLOW_HOME": str(_TEST_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _session_db_url(),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": AWS_REGION,
        # Retries still happen in tests, without the production back-off.
        "PIPELINE_RETRY_DELAY_SECONDS": "1",
        # Ingest and catalog need their first interval to parse; dag.test() runs pick their own dates.
        # A real scheduler never gets this one (airflow_stack records its own, as `make up` does).
        "PIPELINE_START_DATE": "2026-01-01T00:00:00Z",
    }
    env.update(airflow_connections_env(KAFKA_BOOTSTRAP, AWS_ENDPOINT))
    for key, value in env.items():
        os.environ.setdefault(key, value)


def _session_db_url() -> str:
    from devstack.config import StackConfig, postgres_url

    return postgres_url(StackConfig(), _SESSION_DB)


def airflow_connections_env(kafka_bootstrap: str, aws_endpoint: str) -> dict[str, str]:
    """The AIRFLOW_CONN_* variables of the local stack, from the same code as `make up`."""
    from devstack.config import connections_env, stack_config_for

    return connections_env(stack_config_for(kafka_bootstrap, aws_endpoint))


_TEST_AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
_set_default_env()


# ---------------------------------------------------------------------------------------------------
# Waiting on conditions (never sleeping as synchronisation)
# ---------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    host, port = KAFKA_BOOTSTRAP.rsplit(":", 1)
    if not port_open(host, int(port)):
        pytest.fail(f"Kafka is not reachable on {KAFKA_BOOTSTRAP}: start it with `make services`")
    return KAFKA_BOOTSTRAP


@pytest.fixture
def kafka_admin(kafka_bootstrap: str):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def kafka_topic(kafka_admin) -> Iterator[Callable[..., str]]:
    """Factory for a fresh topic (LogAppendTime, like the pipeline's), deleted after the test."""
    from confluent_kafka.admin import NewTopic

    created: list[str] = []

    def make(partitions: int = 3, prefix: str = "test", config: dict[str, str] | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        topic_config = {"message.timestamp.type": "LogAppendTime", **(config or {})}
        futures = kafka_admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=topic_config)]
        )
        futures[name].result(timeout=30)
        created.append(name)
        wait_for(
            lambda: len(kafka_admin.list_topics(name, timeout=5).topics[name].partitions) == partitions,
            30,
            f"topic {name} metadata",
        )
        return name

    yield make
    if created:
        for future in kafka_admin.delete_topics(created).values():
            with contextlib.suppress(Exception):  # best-effort cleanup
                future.result(timeout=30)


# ---------------------------------------------------------------------------------------------------
# Local AWS endpoint
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def aws_endpoint() -> str:
    host_port = AWS_ENDPOINT.split("://", 1)[1]
    host, port = host_port.rsplit(":", 1)
    if not port_open(host, int(port)):
        pytest.fail(f"the local AWS endpoint is not reachable on {AWS_ENDPOINT}: start it with `make services`")
    return AWS_ENDPOINT


@pytest.fixture(scope="session")
def boto_client(aws_endpoint: str) -> Callable[[str], object]:
    import boto3

    def make(service: str):
        return boto3.client(
            service,
            endpoint_url=aws_endpoint,
            region_name=AWS_REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


@pytest.fixture
def s3_bucket(boto_client) -> str:
    """A fresh, empty bucket for one test."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    boto_client("s3").create_bucket(Bucket=name)
    return name


# ---------------------------------------------------------------------------------------------------
# Airflow
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[str]:
    """A migrated metadata DB for this session (dag.test() needs one), created fresh on the test PostgreSQL."""
    from devstack import airflow, postgres
    from devstack.config import StackConfig
    from devstack.processes import StackError

    url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    try:
        airflow.migrate_database(StackConfig(), url, fresh=True)
    except StackError as exc:
        pytest.fail(str(exc))
    yield url
    if url == _session_db_url():
        settings = sys.modules.get("airflow.settings")
        if settings is not None:
            settings.dispose_orm()  # this process's pooled connections go before the database does
        with contextlib.suppress(StackError):
            postgres.drop_database(StackConfig(), _SESSION_DB)


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False)


@dataclass
class AirflowStack:
    """A running Airflow (api-server, scheduler, dag-processor, triggerer) for the scheduler and UI tests."""

    config: object
    client: object
    env: dict[str, str]
    names: dict[str, str]

    def cli(self, *args: str, timeout: float = 300):
        from devstack import airflow

        return airflow.cli(self.config, *args, extra_env=self.env, timeout=timeout)


@pytest.fixture(scope="session")
def airflow_stack(kafka_bootstrap, aws_endpoint) -> Iterator[AirflowStack]:
    """The real Airflow components on the test port, with their own metadata DB and pipeline names.

    One-minute intervals, so scheduled runs happen within the test's time. Shared by the scheduler
    and browser tests so Airflow starts once per session.
    """
    from devstack import airflow
    from devstack.config import StackConfig, pipeline_start_date
    from tests.support import use_pipeline_names

    home = STATE_DIR / "test-stack-airflow"
    cfg = StackConfig(airflow_home_dir=home, metadata_db="airflow_stack")
    airflow.stop(cfg)  # a stack left over by an interrupted session
    shutil.rmtree(home, ignore_errors=True)  # and its runs: every session starts from a fresh DB
    with pytest.MonkeyPatch.context() as mp:
        names = use_pipeline_names(mp, prefix="stack", PIPELINE_INTERVAL_MINUTES="1")
        mp.delenv("PIPELINE_START_DATE")  # recorded for this stack now, as `make up` does: no year of catchup
        mp.setenv("PIPELINE_START_DATE", pipeline_start_date(cfg))
        env = {key: os.environ[key] for key in os.environ if key.startswith(("PIPELINE_", "AIRFLOW_CONN_"))}
    env["PIPELINE_RETRY_DELAY_SECONDS"] = "5"
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"
    airflow.prepare(cfg, extra_env=env, fresh_db=True)
    try:
        airflow.start(cfg, extra_env=env)
        client = airflow.client(cfg)
        yield AirflowStack(config=cfg, client=client, env=env, names=names)
    finally:
        airflow.stop(cfg)
