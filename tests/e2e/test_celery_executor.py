"""One ingest window on the CeleryExecutor with two workers, then the same window on the LocalExecutor.

A real stack as `make up EXECUTOR=celery` runs it (devstack's own functions): Redis, the four Airflow
components and two Celery workers with one task slot each, on the session's PostgreSQL, broker and
endpoint. The scheduler's own schedule is off (`use_job_schedule`), so the one manually triggered run
is all that runs. From the metadata DB: its three ingest_partition tasks ran on both workers. Then
the scheduler restarts on the LocalExecutor, the lake is emptied, and clearing the run rewrites the
very same bytes; a clear of one partition's task and a clear of the seal do too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka.admin import NewTopic

from tests.support import use_pipeline_names, wait_for
from tests.ticks import encode, make_ticks, ms_to_dt, produce

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DAG_ID = "stock_market_ingest"
STATE_DIR = Path(os.environ.get("STATE_DIR", Path(__file__).resolve().parents[2] / ".state"))


@dataclass
class CeleryStack:
    config: object
    env: dict[str, str]
    names: dict[str, str]

    @property
    def api(self):
        from devstack import airflow

        return airflow.client(self.config)


@dataclass
class Window:
    start: datetime
    end: datetime
    ticks: int


@pytest.fixture(scope="module")
def names_and_env() -> tuple[dict[str, str], dict[str, str]]:
    with pytest.MonkeyPatch.context() as mp:
        names = use_pipeline_names(mp, prefix="celery", PIPELINE_INTERVAL_MINUTES="1")
        env = {key: os.environ[key] for key in os.environ if key.startswith(("PIPELINE_", "AIRFLOW_CONN_"))}
    return names, env


@pytest.fixture(scope="module")
def window(names_and_env, kafka_bootstrap) -> Window:
    """One one-minute window with ticks on every partition, produced before the stack starts (so it has
    closed by the time Airflow is up, instead of the test waiting for it)."""
    from confluent_kafka.admin import AdminClient

    topic = names_and_env[0]["PIPELINE_TOPIC"]
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, 3, 1, config={"message.timestamp.type": "LogAppendTime"})])[topic].result(
        timeout=30
    )
    wait_for(lambda: len(admin.list_topics(topic, timeout=5).topics[topic].partitions) == 3, 30, "topic")
    if datetime.now(UTC).second >= 50:
        wait_for(lambda: datetime.now(UTC).second < 50, 15, "the next minute")
    ticks = make_ticks(3000, datetime(2026, 11, 25, 9, 59, 58, tzinfo=UTC), step=timedelta(milliseconds=1))
    delivered = produce(kafka_bootstrap, topic, [(t["symbol"].encode(), encode(t), i % 3) for i, t in enumerate(ticks)])
    start = ms_to_dt(min(d.timestamp_ms for d in delivered)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=1)
    assert max(d.timestamp_ms for d in delivered) < end.timestamp() * 1000
    return Window(start, end, len(ticks))


@pytest.fixture(scope="module")
def celery_stack(names_and_env, window, kafka_bootstrap, aws_endpoint) -> Iterator[CeleryStack]:
    from devstack import airflow, redis
    from devstack.config import StackConfig
    from devstack.processes import free_port

    # Its own run/ and logs/ (the session's LocalExecutor stack may be running beside it), the
    # session's secrets (the same PostgreSQL server).
    state = STATE_DIR / f"celery-stack-{uuid.uuid4().hex[:6]}"
    state.mkdir(parents=True)
    (state / "secrets").symlink_to((STATE_DIR / "secrets").resolve(), target_is_directory=True)
    names, env = names_and_env
    env = dict(env)
    env.update(
        PIPELINE_RETRY_DELAY_SECONDS="5",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",  # manual runs only: nothing competes for the slots
    )
    cfg = StackConfig(
        state_dir=state,
        airflow_home_dir=state / "airflow",
        metadata_db="airflow_celery",
        airflow_port=free_port(),
        executor="celery",
        redis_port=int(os.environ.get("REDIS_PORT") or free_port()),
        celery_workers=2,
        celery_concurrency=1,  # one slot each: three partition tasks cannot all go to one worker
    )
    try:
        redis.start(cfg)
        airflow.prepare(cfg, extra_env=env, fresh_db=True)
        airflow.start(cfg, extra_env=env)
        yield CeleryStack(cfg, env, names)
    finally:
        airflow.stop(cfg)
        redis.stop(cfg)
        left = {name: pid for name, pid in airflow.running_components(cfg).items()}
        if redis.process(cfg).pid():
            left["redis"] = redis.process(cfg).pid()
        shutil.rmtree(state, ignore_errors=True)
        assert not left, f"still running after stop: {left}"


def task_instances(cfg, run_id: str) -> dict[tuple[str, int], dict]:
    """The run's task instances as the metadata DB holds them (not through the API)."""
    import sqlalchemy as sa

    engine = sa.create_engine(cfg.sql_alchemy_conn)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT task_id, map_index, state, hostname, try_number FROM task_instance "
                    "WHERE dag_id = :dag AND run_id = :run"
                ),
                {"dag": DAG_ID, "run": run_id},
            ).mappings()
            return {(r["task_id"], r["map_index"]): dict(r) for r in rows}
    finally:
        engine.dispose()


def lake(s3, bucket: str) -> dict[str, str]:
    """MD5 of every object under the bucket (data, dead letters, parts, the manifest)."""
    found = {}
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        found[item["Key"]] = hashlib.md5(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()).hexdigest()
    return found


def empty(s3, bucket: str) -> None:
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])


def wait_run(api, run_id: str, timeout: float = 420) -> None:
    state = api.wait_for_run(DAG_ID, run_id, timeout=timeout)
    assert state == "success", f"{run_id} ended {state}"


def clear(api, run_id: str, **body) -> None:
    api.post(
        f"/api/v2/dags/{DAG_ID}/clearTaskInstances",
        {"dag_run_id": run_id, "dry_run": False, "only_failed": False, "reset_dag_runs": True, **body},
    )


def test_a_window_on_two_celery_workers_equals_the_local_executor_output(
    celery_stack, window, kafka_bootstrap, boto_client
):
    from devstack import airflow

    cfg, names = celery_stack.config, celery_stack.names
    topic, bucket = names["PIPELINE_TOPIC"], names["PIPELINE_BUCKET"]
    s3 = boto_client("s3")
    s3.create_bucket(Bucket=bucket)
    api = celery_stack.api
    wait_for(lambda: DAG_ID in api.dag_ids(), timeout=240, what="the DAG processor to parse the ingest DAG", interval=2)
    api.unpause(DAG_ID)

    window_start, window_end = window.start, window.end
    wait_for(lambda: datetime.now(UTC) > window_end, 70, "the window to pass", interval=0.5)
    closer = encode(make_ticks(1, window_start)[0])
    produce(kafka_bootstrap, topic, [(b"AAPL", closer, p) for p in range(3)])  # closes it at once

    run_id = api.trigger(DAG_ID, logical_date=window_end.isoformat())
    wait_run(api, run_id)
    run = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
    assert datetime.fromisoformat(run["data_interval_start"]) == window_start, run
    summary = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/seal_window/xcomEntries/return_value")
    assert summary["value"]["rows_out"] == window.ticks and summary["value"]["partitions"] == 3

    workers = {airflow.worker_hostname(name) for name in airflow.worker_names(cfg)}
    on_celery = task_instances(cfg, run_id)
    partitions = [on_celery[("ingest_partition", i)] for i in range(3)]
    assert all(ti["state"] == "success" for ti in on_celery.values()), on_celery
    assert {ti["hostname"] for ti in on_celery.values()} <= workers, on_celery
    assert {ti["hostname"] for ti in partitions} == workers, (
        f"the partition tasks did not use both workers: {partitions}"
    )
    celery_output = lake(s3, bucket)
    assert sum(k.startswith("raw/") for k in celery_output) == 6  # 3 partitions x 2 event hours
    assert sum(k.startswith("_parts/") for k in celery_output) == 3

    # The same run on the LocalExecutor: the scheduler restarts without the workers; the lake is emptied
    # so every object must be written again.
    local = replace(cfg, executor="local")
    airflow.component(cfg, "scheduler").stop(timeout=45)
    for name in airflow.worker_names(cfg):
        airflow.component(cfg, name).stop(timeout=45)
    airflow.start_component(local, "scheduler", celery_stack.env)
    empty(s3, bucket)
    clear(api, run_id)
    wait_run(api, run_id)
    on_local = task_instances(cfg, run_id)
    assert not {ti["hostname"] for ti in on_local.values()} & workers, on_local
    assert all(on_local[key]["try_number"] > on_celery[key]["try_number"] for key in on_celery), "every task reran"
    assert lake(s3, bucket) == celery_output, "the LocalExecutor wrote other keys or bytes than the Celery workers"

    # A clear of one partition's task (and the seal after it), then of the seal alone.
    clear(api, run_id, task_ids=[["ingest_partition", 1]], include_downstream=True)
    wait_run(api, run_id)
    again = task_instances(cfg, run_id)
    reran = {key for key in again if again[key]["try_number"] > on_local[key]["try_number"]}
    assert reran == {("ingest_partition", 1), ("seal_window", -1)}, reran
    assert lake(s3, bucket) == celery_output
    clear(api, run_id, task_ids=["seal_window"])
    wait_run(api, run_id)
    final = task_instances(cfg, run_id)
    assert {key for key in final if final[key]["try_number"] > again[key]["try_number"]} == {("seal_window", -1)}
    assert lake(s3, bucket) == celery_output
