"""Map a broker-time window [start, end) to exact Kafka offset ranges and read exactly those messages.

Why this module exists: a run owns exactly the messages whose broker timestamp (LogAppendTime, monotonic
per partition) lies in its data interval. ``offsets_for_times`` turns the window into per-partition
offset ranges, so a rerun or a backfill reads the very same messages. The stock consume operator reads
"whatever is next" for a subscribed group and cannot do this.

Every broker call has a timeout, so a dead broker fails the run in bounded time with a clear error.
The consumer is used in manual-assignment mode; it must not auto-commit (see
:func:`window_consumer_config`), otherwise a backfill would rewind the group's committed offsets.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Protocol

import numpy as np
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, KafkaError, KafkaException, Message, TopicPartition

from market_pipeline.layout import format_instant

log = logging.getLogger(__name__)

# librdkafka returns this for "no message at or after the timestamp" and for unset offsets.
OFFSET_END = -1

# Consumer settings the window reader relies on; they override the connection's config.
WINDOW_CONSUMER_OVERRIDES: dict[str, Any] = {
    # Offsets are committed once, synchronously, after the manifest is written. Auto-commit would
    # commit mid-window positions, and on a backfill rewind the group to an old window.
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    # An assigned offset that retention deleted mid-read must fail the run, not jump silently.
    "auto.offset.reset": "error",
    "enable.partition.eof": False,
    # Deep pre-fetch for throughput (the broker round trip is the bottleneck otherwise); bounded (memory).
    "max.partition.fetch.bytes": 16 * 1024 * 1024,
    "fetch.max.bytes": 48 * 1024 * 1024,
    "queued.min.messages": 200_000,
    "queued.max.messages.kbytes": 96 * 1024,
    # At the end of a partition the broker would otherwise hold the fetch for 500 ms.
    "fetch.wait.max.ms": 50,
}


class WindowError(RuntimeError):
    """A window cannot be read completely and exactly; the run must fail rather than write a guess."""


class BrokerUnavailableError(WindowError):
    """The broker did not answer within the configured timeout."""


class WindowNotClosedError(WindowError):
    """The window's end (plus grace) is still in the future, so messages may still arrive in it."""


class WindowExpiredError(WindowError):
    """Messages of the window may have been deleted by retention; an empty result would be a lie."""


class WindowConsumer(Protocol):
    """The subset of confluent_kafka.Consumer the reader uses (lets tests wrap or fake it)."""

    def list_topics(self, topic: str | None = ..., timeout: float = ...) -> Any: ...
    def offsets_for_times(self, partitions: list[TopicPartition], timeout: float = ...) -> Any: ...
    def get_watermark_offsets(self, partition: TopicPartition, timeout: float = ...) -> Any: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def unassign(self) -> None: ...
    def consume(self, num_messages: int = ..., timeout: float = ...) -> list[Message]: ...
    def pause(self, partitions: list[TopicPartition]) -> None: ...
    def committed(self, partitions: list[TopicPartition], timeout: float = ...) -> Any: ...
    def commit(self, *args: Any, **kwargs: Any) -> Any: ...


def window_consumer_config(base: Mapping[str, Any], group_id: str | None = None) -> dict[str, Any]:
    """The connection's consumer config with the overrides exact window reads need.

    `group_id` (the pipeline's PIPELINE_CONSUMER_GROUP) wins over the connection's group.id, so the
    ingest commits to, and the UI reports lag for, one group whatever the connection says.
    """
    config = {**dict(base), **WINDOW_CONSUMER_OVERRIDES}
    if group_id:
        config["group.id"] = group_id
    if not config.get("group.id"):
        raise ValueError("the Kafka consumer config needs a group.id to commit window offsets")
    return config


@dataclass(frozen=True)
class Window:
    """A broker-time window [start, end), both timezone-aware; Kafka timestamps are milliseconds."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"empty or inverted window: [{self.start}, {self.end})")

    @property
    def start_ms(self) -> int:
        return to_ms(self.start)

    @property
    def end_ms(self) -> int:
        return to_ms(self.end)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch (Kafka's timestamp unit), exact for whole-millisecond datetimes."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


@dataclass(frozen=True)
class PartitionRange:
    """Offsets [start_offset, end_offset) of one partition that belong to the window."""

    partition: int
    start_offset: int
    end_offset: int

    @property
    def count(self) -> int:
        return self.end_offset - self.start_offset


@dataclass(frozen=True)
class Chunk:
    """Messages of one partition with offsets in [range_start, range_end), in offset order, as columns.

    What the reader yields and the decoder takes. Chunk bounds are fixed steps of ``chunk_size``
    offsets from the window's start offset, so the same window always splits the same way and object
    keys stay deterministic. Columns instead of Message objects: the Messages are dropped right after
    each consume() batch, which keeps memory down and makes consuming measurably cheaper.
    """

    partition: int
    range_start: int
    range_end: int
    values: Sequence[bytes | None]
    keys: Sequence[bytes | None] | None  # only read for dead-lettered messages
    offsets: np.ndarray  # int64, strictly increasing
    timestamps_ms: np.ndarray  # int64 broker timestamps (LogAppendTime)

    def __len__(self) -> int:
        return len(self.values)


def _kafka_call(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except KafkaException as exc:
        err = exc.args[0] if exc.args else None
        code = err.code() if isinstance(err, KafkaError) else None
        if code in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
            raise BrokerUnavailableError(f"Kafka did not answer {what}: {exc}") from exc
        raise WindowError(f"Kafka error during {what}: {exc}") from exc


def topic_partitions(consumer: WindowConsumer, topic: str, timeout: float) -> list[int]:
    """Partition ids of `topic`; fails clearly if the broker is down or the topic does not exist."""
    metadata = _kafka_call(f"metadata for topic {topic!r}", lambda: consumer.list_topics(topic, timeout))
    topic_meta = metadata.topics.get(topic)
    if topic_meta is None or topic_meta.error is not None:
        error = topic_meta.error if topic_meta is not None else "absent from metadata"
        raise WindowError(f"topic {topic!r} is not available: {error}")
    return sorted(topic_meta.partitions)


def _offsets_for(
    consumer: WindowConsumer, topic: str, partitions: list[int], ts_ms: int, timeout: float
) -> dict[int, int]:
    query = [TopicPartition(topic, p, ts_ms) for p in partitions]
    result = _kafka_call(f"offsets_for_times({topic!r}, {ts_ms})", lambda: consumer.offsets_for_times(query, timeout))
    offsets: dict[int, int] = {}
    for tp in result:
        if tp.error is not None:
            raise WindowError(f"offsets_for_times failed for {topic}[{tp.partition}]: {tp.error}")
        offsets[tp.partition] = tp.offset
    return offsets


def wait_until_closed(
    consumer: WindowConsumer,
    topic: str,
    window: Window,
    *,
    grace_seconds: float,
    max_wait_seconds: float,
    timeout: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    poll_interval: float = 1.0,
) -> None:
    """Return once no message can still land in the window, or raise WindowNotClosedError.

    Closed means: every partition already holds a message stamped at or after the window's end
    (LogAppendTime is monotonic, so nothing earlier can follow), or the wall clock passed end + grace
    (the grace covers clock skew between this worker and the broker, and idle partitions).
    """
    partitions = topic_partitions(consumer, topic, timeout)
    deadline = window.end.timestamp() + grace_seconds
    if deadline - clock() > max_wait_seconds:
        raise WindowNotClosedError(
            f"window [{format_instant(window.start)}, {format_instant(window.end)}) closes at end + "
            f"{grace_seconds}s, more than {max_wait_seconds}s from now; refusing to read an open window"
        )
    logged = False
    while True:
        if clock() >= deadline:
            return
        after_end = _offsets_for(consumer, topic, partitions, window.end_ms, timeout)
        if all(offset != OFFSET_END for offset in after_end.values()):
            return
        if not logged:
            log.info("window not closed yet on every partition; waiting up to %.1fs", deadline - clock())
            logged = True
        sleep(max(0.0, min(poll_interval, deadline - clock())))


def resolve_offsets(
    consumer: WindowConsumer,
    topic: str,
    window: Window,
    *,
    timeout: float,
    retention_ms: int | None = None,
    clock: Callable[[], float] = time.time,
) -> tuple[PartitionRange, ...]:
    """Exact offset range of the window on every partition (call once the window is closed).

    Fails with WindowExpiredError when retention may have deleted messages of the window: the first
    retained offset is the window's start offset and earlier offsets are gone. With `retention_ms`
    (the topic's time retention) that is only considered possible for windows starting before
    now - retention; without it (default, strict) any such partition fails.
    """
    partitions = topic_partitions(consumer, topic, timeout)
    # Watermarks first: a message appended after this snapshot is stamped >= end (window closed).
    watermarks: dict[int, tuple[int, int]] = {}
    for p in partitions:
        tp = TopicPartition(topic, p)
        low, high = _kafka_call(
            f"watermarks of {topic}[{p}]", lambda tp=tp: consumer.get_watermark_offsets(tp, timeout)
        )
        watermarks[p] = (low, high)
    starts = _offsets_for(consumer, topic, partitions, window.start_ms, timeout)
    ends = _offsets_for(consumer, topic, partitions, window.end_ms, timeout)
    ranges = []
    for p in partitions:
        low, high = watermarks[p]
        end = ends[p] if ends[p] != OFFSET_END else high
        start = starts[p] if starts[p] != OFFSET_END else high
        start = min(start, end)
        if low > 0 and start <= low:
            possibly_deleted = retention_ms is None or window.start_ms < clock() * 1000 - retention_ms
            if possibly_deleted:
                raise WindowExpiredError(
                    f"window [{format_instant(window.start)}, {format_instant(window.end)}) on {topic}[{p}] starts "
                    f"at or before the earliest retained offset {low}: offsets below it were deleted "
                    "(retention), so messages of this window may be lost. The window is older than the "
                    "topic's retention and cannot be re-read."
                )
        ranges.append(PartitionRange(p, start, end))
    return tuple(ranges)


@dataclass
class _PartitionCursor:
    """Reading state of one partition: its range, the chunk being filled and what arrived so far."""

    rng: PartitionRange
    chunk_size: int
    chunk_start: int = 0
    chunk_end: int = 0
    next_offset: int = 0
    values: list[bytes | None] = field(default_factory=list)
    keys: list[bytes | None] = field(default_factory=list)
    offsets: list[np.ndarray] = field(default_factory=list)
    stamps: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chunk_start = self.next_offset = self.rng.start_offset
        self.chunk_end = min(self.chunk_start + self.chunk_size, self.rng.end_offset)

    @property
    def done(self) -> bool:
        return self.chunk_start >= self.rng.end_offset

    def feed(self, messages: list[Message]) -> Iterator[Chunk]:
        """Add a run of this partition's messages (offset order); yield every chunk they complete."""
        n = len(messages)
        offsets = np.fromiter(map(Message.offset, messages), dtype=np.int64, count=n)
        stamps = np.fromiter(map(itemgetter(1), map(Message.timestamp, messages)), dtype=np.int64, count=n)
        values = list(map(Message.value, messages))
        keys = list(map(Message.key, messages))
        pos = 0
        while pos < n and not self.done:
            split = int(np.searchsorted(offsets, self.chunk_end, side="left"))
            if split > pos:
                self.values.extend(values[pos:split] if pos or split < n else values)
                self.keys.extend(keys[pos:split] if pos or split < n else keys)
                self.offsets.append(offsets[pos:split])
                self.stamps.append(stamps[pos:split])
                self.next_offset = int(offsets[split - 1]) + 1
            if split == n and self.next_offset < self.chunk_end:
                return  # the chunk is not complete yet
            yield Chunk(
                self.rng.partition,
                self.chunk_start,
                self.chunk_end,
                self.values,
                self.keys,
                np.concatenate(self.offsets) if self.offsets else np.empty(0, np.int64),
                np.concatenate(self.stamps) if self.stamps else np.empty(0, np.int64),
            )
            self.values, self.keys, self.offsets, self.stamps = [], [], [], []
            self.chunk_start = self.next_offset = self.chunk_end
            self.chunk_end = min(self.chunk_start + self.chunk_size, self.rng.end_offset)
            pos = split


def read_window(
    consumer: WindowConsumer,
    topic: str,
    ranges: tuple[PartitionRange, ...],
    *,
    chunk_size: int,
    batch_size: int,
    timeout: float,
) -> Iterator[Chunk]:
    """Yield the window's messages in deterministic per-partition chunks of at most `chunk_size` offsets.

    All partitions are assigned at once (one fetch serves them all); a partition that reached its end
    offset is paused so nothing beyond the window is fetched. Memory is bounded by one open chunk per
    partition plus librdkafka's pre-fetch queue. Fails if no message arrives for `timeout` seconds
    (broker gone) or on any consumer error (never skipped silently).
    """
    cursors = {r.partition: _PartitionCursor(r, chunk_size) for r in ranges if r.count > 0}
    if not cursors:
        return
    consumer.assign([TopicPartition(topic, c.rng.partition, c.rng.start_offset) for c in cursors.values()])
    try:
        open_parts = set(cursors)
        last_progress = time.monotonic()
        while open_parts:
            messages = consumer.consume(num_messages=batch_size, timeout=min(1.0, timeout))
            if not messages:
                if time.monotonic() - last_progress > timeout:
                    behind = ", ".join(f"p{p}@{cursors[p].next_offset}/{cursors[p].rng.end_offset}" for p in open_parts)
                    raise BrokerUnavailableError(
                        f"no message from {topic} for {timeout}s while reading the window ({behind}); is the broker up?"
                    )
                continue
            last_progress = time.monotonic()
            if any(map(Message.error, messages)):
                _raise_consumer_error(topic, messages)
            if messages[0].timestamp()[0] != TIMESTAMP_LOG_APPEND_TIME:
                raise WindowError(
                    f"topic {topic!r} does not use message.timestamp.type=LogAppendTime; windows by broker "
                    "time are not exact on it"
                )
            for partition, run in _partition_runs(messages):
                cursor = cursors.get(partition)
                if cursor is None or cursor.done:
                    continue  # fetched before the pause took effect: beyond the window
                yield from cursor.feed(run)
                if cursor.done:
                    open_parts.discard(partition)
                    consumer.pause([TopicPartition(topic, partition)])
    finally:
        consumer.unassign()


def _partition_runs(messages: list[Message]) -> list[tuple[int, list[Message]]]:
    """Split a consumed batch into runs of one partition (librdkafka serves partitions in runs)."""
    first, last = messages[0].partition(), messages[-1].partition()
    parts = np.fromiter(map(Message.partition, messages), dtype=np.int32, count=len(messages))
    if first == last and not (parts != first).any():
        return [(first, messages)]
    bounds = [0, *(np.flatnonzero(np.diff(parts)) + 1).tolist(), len(messages)]
    return [(int(parts[a]), messages[a:b]) for a, b in itertools.pairwise(bounds)]


def _raise_consumer_error(topic: str, messages: list[Message]) -> None:
    bad = next(m for m in messages if m.error() is not None)
    err = bad.error()
    where = f"{topic}[{bad.partition()}] at offset {bad.offset()}"
    if err.code() in (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE):
        raise WindowExpiredError(f"offsets of {where} were deleted while reading (retention): {err}")
    raise WindowError(f"consumer error on {where}: {err}")


def commit_window(
    consumer: WindowConsumer, topic: str, ranges: tuple[PartitionRange, ...], timeout: float
) -> dict[int, int]:
    """Commit the window's end offsets for the consumer group, never moving a partition backwards.

    Done synchronously after the manifest so consumer-group lag in Kafka tools reflects what is in S3.
    A backfill of an old window leaves newer committed offsets alone. Returns what was committed.
    """
    tps = [TopicPartition(topic, r.partition) for r in ranges]
    current = _kafka_call("committed offsets", lambda: consumer.committed(tps, timeout))
    committed_now = {tp.partition: tp.offset for tp in current}
    to_commit = [
        TopicPartition(topic, r.partition, r.end_offset)
        for r in ranges
        if r.end_offset > committed_now.get(r.partition, OFFSET_END)
    ]
    if not to_commit:
        return {}
    result = _kafka_call("commit", lambda: consumer.commit(offsets=to_commit, asynchronous=False))
    for tp in result or []:
        if tp.error is not None:
            raise WindowError(f"commit failed for {topic}[{tp.partition}]: {tp.error}")
    return {tp.partition: tp.offset for tp in to_commit}
