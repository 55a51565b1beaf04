"""Clients for the Market pipeline page, built from the Airflow connections through the providers' hooks.

Why hooks: the page uses the same connections as the DAGs (kafka_default, aws_default), so it points at
the local stack or at real AWS exactly when the pipeline does, and no credentials live in the plugin.
Clients are created lazily and reused (boto3 clients and the confluent AdminClient are thread-safe);
a failed creation is retried on the next request, so the page recovers when a service comes back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from market_pipeline.settings import PipelineSettings
from pipeline_airflow.kafka import WindowConsumerHook, admin_client

# The simulator's DAG and task: its run summaries (XCom) are the producer panel's data.
SIMULATOR_DAG_ID = "stock_market_simulator"
SIMULATOR_TASK_ID = "simulate"
SUMMARY_KEYS = ("summary", "progress")

# Short timeouts and few retries: a panel must say "unreachable" within seconds, not minutes.
BOTO_CONFIG = {"connect_timeout": 3, "read_timeout": 15, "retries": {"max_attempts": 2, "mode": "standard"}}


class _Lazy:
    """One client, created on first use under a lock."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._value: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._value is None:
                self._value = self._factory()
            return self._value

    def reset(self) -> None:
        """Forget the client (a Kafka client left alone keeps reconnecting to a dead broker, and logging)."""
        with self._lock:
            self._value = None


class HookClients:
    """Clients from `settings.kafka_conn_id` and `settings.aws_conn_id` via the provider hooks."""

    def __init__(self, settings: PipelineSettings) -> None:
        self.settings = settings
        self._kafka = _Lazy(self._make_kafka_admin)
        self._group_consumer = _Lazy(self._make_group_consumer)
        self._group_lock = threading.Lock()
        self._s3 = _Lazy(lambda: self._aws_client("s3"))
        self._athena = _Lazy(lambda: self._aws_client("athena"))

    def _make_kafka_admin(self) -> Any:
        return admin_client(self.settings.kafka_conn_id)

    def _make_group_consumer(self) -> Any:
        # The ingest task's own consumer config (same group), never subscribed and never committing:
        # it only reads the group's committed offsets (the AdminClient path can crash librdkafka on a
        # fresh broker).
        hook = WindowConsumerHook(
            topics=[self.settings.topic],
            kafka_config_id=self.settings.kafka_conn_id,
            group_id=self.settings.consumer_group,
        )
        return hook.get_window_consumer()

    def kafka_committed(self, partitions: list[Any], timeout: float) -> list[Any]:
        with self._group_lock:  # one request at a time on the shared consumer
            return self._group_consumer.get().committed(partitions, timeout=timeout)

    def _aws_client(self, service: str) -> Any:
        from botocore.config import Config

        config = Config(**BOTO_CONFIG)
        if service == "s3":
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            return S3Hook(aws_conn_id=self.settings.aws_conn_id, config=config).get_conn()
        from airflow.providers.amazon.aws.hooks.athena import AthenaHook

        return AthenaHook(aws_conn_id=self.settings.aws_conn_id, config=config).get_conn()

    def simulator_runs(self, limit: int) -> list[dict[str, Any]]:
        """The simulator's newest runs with their task's summary (or, while running, its progress).

        Read from Airflow's metadata database: the page runs inside the api-server, which owns it.
        """
        import json

        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            runs = session.scalars(
                select(DagRun)
                .where(DagRun.dag_id == SIMULATOR_DAG_ID)
                .order_by(DagRun.run_after.desc(), DagRun.id.desc())
                .limit(limit)
            ).all()
            run_ids = [run.run_id for run in runs]
            tasks = {
                ti.run_id: ti
                for ti in session.scalars(
                    select(TaskInstance).where(
                        TaskInstance.dag_id == SIMULATOR_DAG_ID,
                        TaskInstance.task_id == SIMULATOR_TASK_ID,
                        TaskInstance.run_id.in_(run_ids),
                    )
                )
            }
            values: dict[tuple[str, str], Any] = {}
            for run_id, key, value in session.execute(
                select(XComModel.run_id, XComModel.key, XComModel.value).where(
                    XComModel.dag_id == SIMULATOR_DAG_ID,
                    XComModel.task_id == SIMULATOR_TASK_ID,
                    XComModel.run_id.in_(run_ids),
                    XComModel.key.in_(SUMMARY_KEYS),
                )
            ):
                values[(run_id, key)] = json.loads(value) if isinstance(value, (str, bytes)) else value
            rows = []
            for run in runs:
                ti = tasks.get(run.run_id)
                rows.append(
                    {
                        "run_id": run.run_id,
                        "run_type": _text(run.run_type),
                        "state": _text(run.state),
                        "task_state": None if ti is None else _text(ti.state),
                        "start_date": run.start_date,
                        "end_date": run.end_date,
                        "conf": dict(run.conf or {}),
                        "summary": values.get((run.run_id, "summary")),
                        "progress": values.get((run.run_id, "progress")),
                    }
                )
            return rows

    def kafka_admin(self) -> Any:
        return self._kafka.get()

    def kafka_failed(self) -> None:
        self._kafka.reset()
        self._group_consumer.reset()

    def s3(self) -> Any:
        return self._s3.get()

    def athena(self) -> Any:
        return self._athena.get()


def _text(value: Any) -> str | None:
    """An Airflow enum (run type, state) as its plain value."""
    return None if value is None else str(getattr(value, "value", value))
