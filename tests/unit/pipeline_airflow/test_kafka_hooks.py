"""The Kafka provider's private API the pipeline relies on, pinned: these tests fail loudly when it changes.

pipeline_airflow.kafka overrides and calls ``KafkaBaseHook._build_config`` (the provider's one route
from a connection to a librdkafka config, callbacks and managed auth included). If a provider release
renames it, changes its signature, or stops building clients from it, the ingest consumer would silently
lose its window settings (auto-commit back on: a backfill could rewind the group). Read the provider's
hooks/base.py and adapt pipeline_airflow/kafka.py when one of these fails.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from airflow.providers.apache.kafka.hooks import consume
from airflow.providers.apache.kafka.hooks.base import KafkaBaseHook

from pipeline_airflow.kafka import WindowConsumerHook, producer_config

CONNECTION = {
    "bootstrap.servers": "127.0.0.1:1",
    "group.id": "from_connection",
    "enable.auto.commit": True,
    "linger.ms": 7,
}


@pytest.fixture
def kafka_connection(monkeypatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_PINNED_KAFKA", json.dumps({"conn_type": "kafka", "extra": CONNECTION}))
    return "pinned_kafka"


def test_the_private_method_still_exists_with_the_same_signature():
    assert callable(getattr(KafkaBaseHook, "_build_config", None)), (
        "KafkaBaseHook._build_config is gone: pipeline_airflow/kafka.py must find the provider's new way "
        "to build a client config from a connection"
    )
    assert list(inspect.signature(KafkaBaseHook._build_config).parameters) == ["self"]


def test_the_window_consumer_gets_the_window_settings_through_the_providers_own_path(kafka_connection, monkeypatch):
    built: list[dict[str, Any]] = []

    class RecordingConsumer:
        def __init__(self, config: dict[str, Any]) -> None:
            built.append(config)

    monkeypatch.setattr(consume, "Consumer", RecordingConsumer)
    hook = WindowConsumerHook(topics=["t"], kafka_config_id=kafka_connection, group_id="pipeline_group")
    assert isinstance(hook.get_window_consumer(), RecordingConsumer)
    (config,) = built
    assert config["enable.auto.commit"] is False, (
        "the provider no longer builds its consumer from _build_config: the window consumer would auto-commit"
    )
    assert config["group.id"] == "pipeline_group" and config["auto.offset.reset"] == "error"
    assert config["bootstrap.servers"] == "127.0.0.1:1" and config["linger.ms"] == 7
    assert callable(config.get("error_cb")), "the provider's default error callback is kept"


def test_the_producer_config_is_the_connections_as_the_provider_resolves_it(kafka_connection):
    assert producer_config(kafka_connection) == CONNECTION
