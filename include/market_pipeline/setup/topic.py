"""Create-or-verify the Kafka topic the pipeline depends on: the only place its configs are stated.

The provider's `KafkaAdminClientHook.create_topic` takes only name, partitions and replication; it
cannot set topic configs. The pipeline's exactly-once windows rely on
`message.timestamp.type=LogAppendTime`, so this module creates the topic with its configs through the
hook's AdminClient. Setup (:func:`ensure_topic`) verifies what cannot safely change on an existing
topic and updates what can; a producer (:func:`ensure_topic_exists`) creates a missing topic the same
way but on an existing one only verifies what window ownership needs, leaving the rest to setup.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from market_pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

# Changing these under existing data breaks the pipeline's guarantees, so a mismatch is an error:
# the timestamp type defines window ownership; the partition count defines which partition a symbol's
# ticks go to (ordering per symbol) and the object keys.
FIXED_CONFIGS = ("message.timestamp.type",)
# Broker append time: monotonic per partition, so offsets_for_times maps a window to exact offsets.
TIMESTAMP_CONFIG = {"message.timestamp.type": "LogAppendTime"}


class TopicConflictError(RuntimeError):
    """An existing topic's settings conflict with what the pipeline needs."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    configs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 249:
            raise ValueError(f"invalid topic name {self.name!r}")
        if self.partitions < 1:
            raise ValueError(f"partitions must be >= 1, got {self.partitions}")
        if self.replication < 1:
            raise ValueError(f"replication factor must be >= 1, got {self.replication}")


def pipeline_topic_configs(retention_ms: int, compression: str) -> dict[str, str]:
    return {**TIMESTAMP_CONFIG, "retention.ms": str(retention_ms), "compression.type": compression}


def pipeline_topic_spec(
    settings: PipelineSettings,
    *,
    partitions: int | None = None,
    replication: int | None = None,
    retention_ms: int | None = None,
    compression: str = "producer",
) -> TopicSpec:
    """The pipeline's topic from its settings; setup's Params override the numbers."""
    return TopicSpec(
        name=settings.topic,
        partitions=settings.topic_partitions if partitions is None else partitions,
        replication=settings.topic_replication if replication is None else replication,
        configs=pipeline_topic_configs(
            settings.topic_retention_ms if retention_ms is None else retention_ms, compression
        ),
    )


def ensure_topic(admin: AdminClient, spec: TopicSpec, timeout: float = 30.0) -> dict[str, Any]:
    """Create the topic, or verify and update an existing one. Returns what was done, for the task log."""
    if _create(admin, spec, timeout):
        return {"topic": spec.name, "action": "created", "partitions": spec.partitions, "configs": spec.configs}
    return _verify_and_update(admin, spec, timeout)


def ensure_topic_exists(admin: AdminClient, spec: TopicSpec, timeout: float = 30.0) -> dict[str, Any]:
    """Create a missing topic like setup does; on an existing one verify only its fixed configs.

    For producers (the simulator DAG), which may run before setup: they must never write into a topic
    whose timestamps do not define windows, but partitions, retention and compression are setup's to
    choose (its Params), so they are neither checked against `spec` nor changed.
    """
    if _create(admin, spec, timeout):
        return {"topic": spec.name, "action": "created", "partitions": spec.partitions, "configs": spec.configs}
    partitions, _ = _verify_fixed(admin, spec, timeout)
    return {"topic": spec.name, "action": "verified", "partitions": partitions}


def _create(admin: AdminClient, spec: TopicSpec, timeout: float) -> bool:
    """Create the topic with its configs if it does not exist; False if it exists (or just appeared)."""
    existing = admin.list_topics(timeout=timeout).topics.get(spec.name)
    if existing is not None and existing.error is None:
        return False
    futures = admin.create_topics(
        [NewTopic(spec.name, spec.partitions, spec.replication, config=spec.configs)], request_timeout=timeout
    )
    try:
        futures[spec.name].result(timeout=timeout)
    except KafkaException as exc:
        if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
            raise
        return False  # created concurrently by someone else: verify it like any existing topic
    log.info("created topic %s (%d partitions, rf %d, %s)", spec.name, spec.partitions, spec.replication, spec.configs)
    return True


def _verify_fixed(admin: AdminClient, spec: TopicSpec, timeout: float) -> tuple[int, dict[str, str]]:
    """(partition count, current configs) of an existing topic, after checking its fixed configs."""
    partitions, actual = _describe(admin, spec.name, timeout)
    for key in FIXED_CONFIGS:
        if key in spec.configs and actual.get(key) != spec.configs[key]:
            raise TopicConflictError(
                f"topic {spec.name!r} has {key}={actual.get(key)} but the pipeline needs {key}={spec.configs[key]}: "
                "ingest windows are defined by broker append time. Recreate the topic (its data would be "
                "lost) or point PIPELINE_TOPIC at a new topic."
            )
    return partitions, actual


def _describe(admin: AdminClient, name: str, timeout: float) -> tuple[int, dict[str, str]]:
    """Partition count and configs of a topic, waiting (up to `timeout`) for one created a moment ago.

    A topic that another client just created is known to the controller before every broker has
    applied it: metadata may still lack it and DescribeConfigs answer UNKNOWN_TOPIC_OR_PART.
    """
    deadline = time.monotonic() + timeout
    while True:
        topic_md = admin.list_topics(name, timeout=timeout).topics.get(name)
        if topic_md is not None and topic_md.error is None and topic_md.partitions:
            resource = ConfigResource(ConfigResource.Type.TOPIC, name)
            try:
                current = admin.describe_configs([resource], request_timeout=timeout)[resource].result(timeout=timeout)
                return len(topic_md.partitions), {key: entry.value for key, entry in current.items()}
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"topic {name!r} exists but its metadata did not settle within {timeout:.0f}s")
        time.sleep(0.2)


def _verify_and_update(admin: AdminClient, spec: TopicSpec, timeout: float) -> dict[str, Any]:
    partitions, actual = _verify_fixed(admin, spec, timeout)
    if partitions != spec.partitions:
        raise TopicConflictError(
            f"topic {spec.name!r} exists with {partitions} partitions but {spec.partitions} are configured; "
            "changing the partition count moves symbols to other partitions and breaks per-symbol order. "
            "Use the existing count (Param `partitions`) or a new topic name."
        )
    changes = {k: v for k, v in spec.configs.items() if k not in FIXED_CONFIGS and actual.get(k) != v}
    if changes:
        update = ConfigResource(
            ConfigResource.Type.TOPIC,
            spec.name,
            incremental_configs=[
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in changes.items()
            ],
        )
        admin.incremental_alter_configs([update], request_timeout=timeout)[update].result(timeout=timeout)
        log.info("topic %s exists; updated %s", spec.name, changes)
        return {"topic": spec.name, "action": "updated", "partitions": partitions, "changed": changes}
    log.info("topic %s exists with the expected settings", spec.name)
    return {"topic": spec.name, "action": "unchanged", "partitions": partitions}
