"""Consumer lag per partition and the topic's throughput.

Lag is the high watermark minus the consumer group's committed offset: how many messages the ingest
DAG has not committed yet. Throughput is estimated from high-watermark deltas between polls, kept in
the app's memory, so it costs no extra broker requests and needs no consumer of its own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
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


class ThroughputTracker:
    """Messages per second from high-watermark totals sampled over time (in memory, thread-safe).

    Why deltas of the watermark sum: every produced message advances exactly one partition's high
    watermark by one, so the sum's slope is the topic's produce rate, whoever is consuming.
    """

    def __init__(self, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque(maxlen=10_000)
        self._lock = threading.Lock()

    def observe(self, total_high: int, at: float | None = None) -> float | None:
        """Record the current watermark sum; return the rate over the window, None until 2 samples."""
        now = self._clock() if at is None else at
        with self._lock:
            if self._samples and total_high < self._samples[-1][1]:
                self._samples.clear()  # the topic was recreated or truncated: old samples mean nothing
            self._samples.append((now, total_high))
            # Keep the newest sample at or before the window's start as the baseline; bursts of polls
            # (several open pages) only add samples, bounded by maxlen.
            while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_seconds:
                self._samples.popleft()
            return self._rate()

    def rate(self) -> float | None:
        with self._lock:
            return self._rate()

    def _rate(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        if t1 <= t0:
            return None
        return (n1 - n0) / (t1 - t0)


def fetch_offsets(
    admin: Any,
    topic: str,
    group: str,
    timeout: float = 5.0,
    committed_fn: Callable[[list[Any], float], list[Any]] | None = None,
) -> list[PartitionLag]:
    """Watermarks (AdminClient) and the group's committed offsets.

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

    try:
        high = {p: info.offset for p, info in offsets(OffsetSpec.latest()).items()}
        low = {p: info.offset for p, info in offsets(OffsetSpec.earliest()).items()}
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
    return [PartitionLag(**{**r.to_dict(), "last_message_time": newest.get(r.partition)}) for r in rows]


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
