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

    def kafka_admin(self) -> Any:
        return self._kafka.get()

    def kafka_failed(self) -> None:
        self._kafka.reset()
        self._group_consumer.reset()

    def s3(self) -> Any:
        return self._s3.get()

    def athena(self) -> Any:
        return self._athena.get()
