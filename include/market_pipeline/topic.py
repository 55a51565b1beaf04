"""Create-or-verify the Kafka topic the pipeline depends on.

The provider's `KafkaAdminClientHook.create_topic` takes only name, partitions and replication; it
cannot set topic configs. The pipeline's exactly-once windows rely on
`message.timestamp.type=LogAppendTime`, so this module creates the topic with its configs through the
hook's AdminClient, and on an existing topic verifies what cannot safely change and updates what can.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

log = logging.getLogger(__name__)

# Changing these under existing data breaks the pipeline's guarantees, so a mismatch is an error:
# the timestamp type defines window ownership; the partition count defines which partition a symbol's
# ticks go to (ordering per symbol) and the object keys.
FIXED_CONFIGS = ("message.timestamp.type",)


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
    return {
        "message.timestamp.type": "LogAppendTime",
        "retention.ms": str(retention_ms),
        "compression.type": compression,
    }


def ensure_topic(admin: AdminClient, spec: TopicSpec, timeout: float = 30.0) -> dict[str, Any]:
    """Create the topic, or verify and update an existing one. Returns what was done, for the task log."""
    metadata = admin.list_topics(timeout=timeout)
    existing = metadata.topics.get(spec.name)
    if existing is None or existing.error is not None:
        futures = admin.create_topics(
            [NewTopic(spec.name, spec.partitions, spec.replication, config=spec.configs)],
            request_timeout=timeout,
        )
        try:
            futures[spec.name].result(timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
            # Created concurrently by someone else: fall through to verification.
            return _verify_and_update(admin, spec, timeout)
        log.info(
            "created topic %s (%d partitions, rf %d, %s)", spec.name, spec.partitions, spec.replication, spec.configs
        )
        return {"topic": spec.name, "action": "created", "partitions": spec.partitions, "configs": spec.configs}
    return _verify_and_update(admin, spec, timeout)


def _verify_and_update(admin: AdminClient, spec: TopicSpec, timeout: float) -> dict[str, Any]:
    topic_md = admin.list_topics(spec.name, timeout=timeout).topics[spec.name]
    partitions = len(topic_md.partitions)
    if partitions != spec.partitions:
        raise TopicConflictError(
            f"topic {spec.name!r} exists with {partitions} partitions but {spec.partitions} are configured; "
            "changing the partition count moves symbols to other partitions and breaks per-symbol order. "
            "Use the existing count (Param `partitions`) or a new topic name."
        )
    resource = ConfigResource(ConfigResource.Type.TOPIC, spec.name)
    current = admin.describe_configs([resource], request_timeout=timeout)[resource].result(timeout=timeout)
    actual = {name: entry.value for name, entry in current.items()}
    for key in FIXED_CONFIGS:
        if key in spec.configs and actual.get(key) != spec.configs[key]:
            raise TopicConflictError(
                f"topic {spec.name!r} has {key}={actual.get(key)} but the pipeline needs {key}={spec.configs[key]}: "
                "ingest windows are defined by broker append time. Recreate the topic (its data would be "
                "lost) or point PIPELINE_TOPIC at a new topic."
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
