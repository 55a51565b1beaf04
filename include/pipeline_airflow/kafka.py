"""Kafka clients built from the Airflow connection through the Kafka provider's hooks.

Why through the hooks: they resolve the connection (env, secrets backend), its allow-listed callbacks
and managed auth (Amazon MSK IAM, Google Managed Kafka), so the DAGs work against any cluster the
connection describes. What the provider does not offer publicly is done here and only here:

**Private provider API, isolated.** ``KafkaBaseHook._build_config()`` is the provider's one place that
turns the connection into a librdkafka config (callbacks and auth included); ``get_conn`` is
``_get_client(_build_config())``. Two needs are not covered by public methods:

- the ingest's consumer must not be subscribed (a group join's rebalance would fight the manual
  assignment) and must not auto-commit (it would commit mid-window positions and, on a backfill,
  rewind the group): :class:`WindowConsumerHook` overrides ``_build_config`` to apply
  ``window_consumer_config``; ``get_conn`` then builds the consumer the provider's way;
- the simulator runs its own producer loop and needs the config, not a Producer:
  :func:`producer_config` calls ``_build_config``.

tests/unit/pipeline_airflow/test_kafka_hooks.py fails loudly if the provider renames or stops using
``_build_config`` (apache-airflow-providers-apache-kafka 2.1.0 at the time of writing).

**Quiet clients.** Every client built here logs through Python logging, rate-limited, instead of
librdkafka's stderr (thousands of ERROR lines while a broker is down), and the AdminClient gets no
consumer-only properties (the connection's ``group.id`` made librdkafka warn on every task):
``simulator.kafka_logs.client_config``, shared with the standalone simulator.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.apache.kafka.hooks.client import KafkaAdminClientHook
from airflow.providers.apache.kafka.hooks.consume import KafkaConsumerHook
from airflow.providers.apache.kafka.hooks.produce import KafkaProducerHook

from market_pipeline.ingest.kafka_window import window_consumer_config
from simulator.kafka_logs import client_config


class WindowConsumerHook(KafkaConsumerHook):
    """KafkaConsumerHook whose consumer is set up for exact window reads (see ingest.kafka_window)."""

    def __init__(self, topics: list[str], kafka_config_id: str, group_id: str | None = None) -> None:
        super().__init__(topics=topics, kafka_config_id=kafka_config_id)
        self.group_id = group_id

    def _build_config(self) -> dict[str, Any]:  # private provider API: see the module docstring
        return client_config(window_consumer_config(super()._build_config(), self.group_id), consumer=True)

    def get_window_consumer(self) -> Any:
        """An unsubscribed consumer: the window reader assigns partitions and offsets itself."""
        return self.get_conn


def producer_config(kafka_config_id: str) -> dict[str, Any]:
    """The connection's librdkafka config, resolved exactly as the provider's get_producer() would."""
    return KafkaProducerHook(kafka_config_id=kafka_config_id)._build_config()  # private provider API: see above


class _QuietAdminHook(KafkaAdminClientHook):
    def _build_config(self) -> dict[str, Any]:  # private provider API: see the module docstring
        return client_config(super()._build_config())


def admin_client(kafka_config_id: str) -> Any:
    """A confluent AdminClient from the connection (the provider's get_conn, quiet: see above)."""
    return _QuietAdminHook(kafka_config_id=kafka_config_id).get_conn
