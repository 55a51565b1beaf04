"""Consumer lag per partition and the topic's throughput.

Lag is the high watermark minus the consumer group's committed offset: how many messages the ingest
DAG has not committed yet. Throughput comes from the broker too: the messages appended in the last
minute are the high watermark minus the offset of the first message at or after one minute ago
(``offsets_for_times``, exact with LogAppendTime), so the first poll already has it (it used to be
estimated from the page's own polls and was unknown until the page had been open a minute).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from market_pipeline.layout import format_instant


@dataclass(frozen=True)
class PartitionLag:
    """One partition's offsets. `committed` is None when the group never committed on it."""

    partition: int
    low: int
    high: int
    committed: int | None
    lag: int
    last_message_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_lag(
    high: Mapping[int, int],
    committed: Mapping[int, int | None],
    low: Mapping[int, int] | None = None,
) -> list[PartitionLag]:
    """Lag per partition, sorted by partition.

    Without a commit the group would start from the log start (the ingest reads windows from the
    earliest retained offset), so everything retained counts as lag. A committed offset below the
    log start (retention deleted messages nobody consumed) counts from the log start, since those
    messages can no longer be read; a committed offset past the high watermark (topic recreated)
    counts as zero rather than as negative lag.
    """
    low = low or {}
    rows = []
    for partition in sorted(high):
        hw = high[partition]
        lw = low.get(partition, 0)
        offset = committed.get(partition)
        if offset is None or offset < 0:
            lag = hw - lw
            offset = None
        else:
            lag = hw - max(offset, lw)
        rows.append(PartitionLag(partition, lw, hw, offset, max(lag, 0)))
    return rows


THROUGHPUT_WINDOW_S = 60


def appended_since(high: Mapping[int, int], offsets_at: Mapping[int, int]) -> int:
    """Messages appended at or after an instant, from each partition's offset for that timestamp.

    With LogAppendTime the broker's timestamps are its append times, monotonic per partition, so the
    first offset whose timestamp is at or after the instant splits the log exactly; -1 means no message
    of that partition is that recent.
    """
    return sum(max(0, high[p] - offset) for p, offset in offsets_at.items() if offset >= 0 and p in high)


@dataclass(frozen=True)
class TopicOffsets:
    """Each partition's lag, and the messages the broker appended in the last `window_s` seconds."""

    partitions: list[PartitionLag] = field(default_factory=list)
    appended_in_window: int = 0
    window_s: int = THROUGHPUT_WINDOW_S

    @property
    def throughput(self) -> float:
        return self.appended_in_window / self.window_s


def fetch_offsets(
    admin: Any,
    topic: str,
    group: str,
    timeout: float = 5.0,
    committed_fn: Callable[[list[Any], float], list[Any]] | None = None,
    now: datetime | None = None,
) -> TopicOffsets:
    """Watermarks (AdminClient), the group's committed offsets and the last minute's appends.

    `committed_fn(partitions, timeout)` reads the group's offsets through a consumer of that group
    (`Consumer.committed`). Prefer it: librdkafka's AdminClient ListConsumerGroupOffsets can crash
    the whole process (NULL coordinator) while the broker has no __consumer_offsets topic yet, which
    is the case on a fresh broker before any group committed. Without it, the AdminClient is used.
    Raises RuntimeError with a readable message when the broker or the topic is not there.
    """
    from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
    from confluent_kafka.admin import OffsetSpec

    try:
        metadata = admin.list_topics(topic=topic, timeout=timeout)
    except KafkaException as exc:
        raise RuntimeError(f"Kafka broker not reachable: {_kafka_reason(exc)}") from exc
    topic_md = metadata.topics.get(topic)
    if topic_md is None or topic_md.error is not None or not topic_md.partitions:
        reason = topic_md.error.str() if topic_md is not None and topic_md.error is not None else "no partitions"
        raise RuntimeError(f"topic {topic!r} not found on the broker ({reason})")
    partitions = sorted(topic_md.partitions)

    def offsets(spec: Any) -> dict[int, Any]:
        request = {TopicPartition(topic, p): spec for p in partitions}
        futures = admin.list_offsets(request, request_timeout=timeout)
        return {tp.partition: future.result(timeout=timeout + 1) for tp, future in futures.items()}

    since_ms = int((now or datetime.now(UTC)).timestamp() * 1000) - THROUGHPUT_WINDOW_S * 1000
    try:
        high = {p: info.offset for p, info in offsets(OffsetSpec.latest()).items()}
        low = {p: info.offset for p, info in offsets(OffsetSpec.earliest()).items()}
        recent = {p: info.offset for p, info in offsets(OffsetSpec.for_timestamp(since_ms)).items()}
        wanted = [TopicPartition(topic, p) for p in partitions]
        if committed_fn is not None:
            group_offsets = committed_fn(wanted, timeout)
        else:
            request = [ConsumerGroupTopicPartitions(group, wanted)]
            result = admin.list_consumer_group_offsets(request, request_timeout=timeout)[group].result(
                timeout=timeout + 1
            )
            group_offsets = result.topic_partitions
    except KafkaException as exc:
        raise RuntimeError(f"Kafka offsets request failed: {_kafka_reason(exc)}") from exc
    committed: dict[int, int | None] = {}
    for tp in group_offsets:
        if tp.topic == topic:
            committed[tp.partition] = tp.offset if tp.offset >= 0 else None
    rows = compute_lag(high, committed, low)
    newest = _newest_times(admin, topic, partitions, timeout, offsets_fn=offsets)
    return TopicOffsets(
        partitions=[PartitionLag(**{**r.to_dict(), "last_message_time": newest.get(r.partition)}) for r in rows],
        appended_in_window=appended_since(high, recent),
    )


def _newest_times(
    admin: Any, topic: str, partitions: list[int], timeout: float, offsets_fn: Callable[[Any], dict[int, Any]]
) -> dict[int, str]:
    """Broker time of each partition's newest message (LogAppendTime), best effort."""
    from confluent_kafka.admin import OffsetSpec

    try:
        infos = offsets_fn(OffsetSpec.max_timestamp())
    except Exception:  # an older broker without max_timestamp: the column stays empty
        return {}
    return {
        p: format_instant(datetime.fromtimestamp(info.timestamp / 1000, UTC))
        for p, info in infos.items()
        if getattr(info, "timestamp", -1) and info.timestamp > 0
    }


def _kafka_reason(exc: Exception) -> str:
    """The broker error's text without the repr noise."""
    arg = exc.args[0] if exc.args else exc
    text = arg.str() if hasattr(arg, "str") else str(arg)
    return text or type(exc).__name__
