"""setup/topic.py against the real broker: setup's create-or-update, and the producer's create-or-verify.

The simulator DAG may run before setup (`make up` unpauses both): ensure_topic_exists must then create
the topic exactly as setup would, and on an existing topic only insist on what window ownership needs.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from confluent_kafka.admin import ConfigResource, NewTopic

from market_pipeline.settings import PipelineSettings
from market_pipeline.setup.topic import TopicConflictError, ensure_topic, ensure_topic_exists, pipeline_topic_spec
from tests.support import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def topic_name(kafka_admin):
    name = f"setup_{uuid.uuid4().hex[:10]}"
    yield name
    with contextlib.suppress(Exception):  # best-effort cleanup
        kafka_admin.delete_topics([name])[name].result(timeout=30)


def partitions(admin, topic: str) -> int:
    return len(admin.list_topics(topic, timeout=10).topics[topic].partitions)


def settled(admin, topic: str, count: int) -> None:
    """Wait until a just-created topic's partitions and configs are visible (the broker applies both)."""
    wait_for(
        lambda: (
            partitions(admin, topic) == count and configs(admin, topic)["message.timestamp.type"] == "LogAppendTime"
        ),
        30,
        f"topic {topic}'s metadata and configs",
    )


def configs(admin, topic: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return {k: v.value for k, v in admin.describe_configs([resource])[resource].result(timeout=30).items()}


def test_a_producer_creates_a_missing_topic_as_setup_would_and_setup_then_changes_nothing(kafka_admin, topic_name):
    spec = pipeline_topic_spec(PipelineSettings(topic=topic_name))
    assert ensure_topic_exists(kafka_admin, spec)["action"] == "created"
    settled(kafka_admin, topic_name, spec.partitions)
    found = configs(kafka_admin, topic_name)
    assert found["message.timestamp.type"] == "LogAppendTime"
    assert found["retention.ms"] == spec.configs["retention.ms"]
    assert ensure_topic(kafka_admin, spec)["action"] == "unchanged"


def test_a_producer_leaves_setups_choices_alone(kafka_admin, topic_name):
    """Setup ran with other Params (6 partitions, 1 h retention): the producer verifies, changes nothing."""
    settings = PipelineSettings(topic=topic_name)
    ensure_topic(kafka_admin, pipeline_topic_spec(settings, partitions=6, retention_ms=3_600_000))
    settled(kafka_admin, topic_name, 6)
    result = ensure_topic_exists(kafka_admin, pipeline_topic_spec(settings))
    assert result == {"topic": topic_name, "action": "verified", "partitions": 6}
    assert configs(kafka_admin, topic_name)["retention.ms"] == "3600000"


def test_a_producer_refuses_a_topic_whose_timestamps_do_not_define_windows(kafka_admin, topic_name):
    kafka_admin.create_topics([NewTopic(topic_name, 3, 1, config={"message.timestamp.type": "CreateTime"})])[
        topic_name
    ].result(timeout=30)
    with pytest.raises(TopicConflictError, match="LogAppendTime"):
        ensure_topic_exists(kafka_admin, pipeline_topic_spec(PipelineSettings(topic=topic_name)))
