"""The window reader's consumer, built through the Kafka provider's own hook (Airflow-only module).

Why not ``KafkaConsumerHook(...).get_consumer()`` as is: it subscribes the consumer (a group join whose
rebalance would fight the manual assignment) and keeps the connection's auto-commit, which would
commit mid-window positions and, on a backfill, rewind the group. The hook still resolves the
connection, its callbacks and managed auth (MSK IAM, Google); only the consumer config is adjusted.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.apache.kafka.hooks.consume import KafkaConsumerHook

from market_pipeline.kafka_window import window_consumer_config


class WindowConsumerHook(KafkaConsumerHook):
    """KafkaConsumerHook whose consumer is set up for exact window reads (see kafka_window)."""

    def __init__(self, topics: list[str], kafka_config_id: str, group_id: str | None = None) -> None:
        super().__init__(topics=topics, kafka_config_id=kafka_config_id)
        self.group_id = group_id

    def _get_client(self, config: dict[str, Any]) -> Any:
        return super()._get_client(window_consumer_config(config, self.group_id))

    def get_window_consumer(self) -> Any:
        """An unsubscribed consumer: the window reader assigns partitions and offsets itself."""
        return self.get_conn
