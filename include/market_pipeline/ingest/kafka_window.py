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
from confluent_kafka.admin import ConfigResource

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
    # Once the queue above is full, librdkafka (>= 2.4) postpones the partition's next fetch by this
    # much (default 1 s): a task reading one partition then idled about half the time (one partition
    # read at 290k msg/s with the default, 770k msg/s with 50 ms, memory bounded as before).
    "fetch.queue.backoff.ms": 50,
}


class WindowError(RuntimeError):
    """A window cannot be read completely and exactly; the run must fail rather than write a guess."""


class BrokerUnavailableError(WindowError):
    """The broker did not answer within the configured timeout."""


class WindowNotClosedError(WindowError):
    """The window's end (plus grace) is still in the future, so messages may still arrive in it."""


class WindowExpiredError(WindowError):
    """Messages of the window were, or may have been, deleted (retention); an empty result would be a lie."""


# Errors that mean "the broker (or the partition's leader) cannot answer now": a retry can succeed.
# _UNKNOWN_PARTITION is what librdkafka reports for a partition it just listed once its broker is gone.
_UNAVAILABLE = frozenset(
    {
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError._WAIT_COORD,
        KafkaError._RESOLVE,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.BROKER_NOT_AVAILABLE,
        KafkaError.REPLICA_NOT_AVAILABLE,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
    }
)


def _text(error: object) -> str:
    return error.str() if isinstance(error, KafkaError) else str(error)


def broker_unavailable(error: object) -> bool:
    """Whether a KafkaError says the broker is unreachable or busy rather than that the request is wrong."""
    if not isinstance(error, KafkaError):
        return False
    return error.code() in _UNAVAILABLE or error.retriable()


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
        if broker_unavailable(err):
            raise BrokerUnavailableError(
                f"Kafka did not answer {what}: the broker is unavailable or restarting ({_text(err)}); "
                "the run is retried"
            ) from exc
        raise WindowError(f"Kafka error during {what}: {exc}") from exc


def topic_partitions(consumer: WindowConsumer, topic: str, timeout: float) -> list[int]:
    """Partition ids of `topic`; fails clearly if the broker is down or the topic does not exist."""
    metadata = _kafka_call(f"metadata for topic {topic!r}", lambda: consumer.list_topics(topic, timeout))
    topic_meta = metadata.topics.get(topic)
    if topic_meta is not None and broker_unavailable(topic_meta.error):
        raise BrokerUnavailableError(
            f"topic {topic!r} has no available leader: {topic_meta.error} (the run is retried)"
        )
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
            if broker_unavailable(tp.error):
                raise BrokerUnavailableError(
                    f"Kafka could not look up offsets of {topic}[{tp.partition}]: the broker is unavailable or "
                    f"restarting ({_text(tp.error)}); the run is retried"
                )
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


@dataclass(frozen=True)
class RetentionEvidence:
    """What is known about the messages deleted below a partition's log start offset (retention, or
    an operator's delete-records), to decide whether any of them belonged to the window.

    The facts come from the broker (the topic's retention settings) and from manifests (the offsets
    earlier runs read), never from a guess: LogAppendTime timestamps only grow with the offset, so an
    offset an earlier window ended at bounds the timestamps of everything below it.
    """

    # The topic's retention.ms / retention.bytes (-1: unlimited); None: unknown.
    retention_ms: int | None = None
    retention_bytes: int | None = None
    # This window's own manifest (a rerun): its start offset per partition.
    window_starts: Mapping[int, int] = field(default_factory=dict)
    # The newest manifest of an earlier window: its end and its end offset per partition.
    previous_end: datetime | None = None
    previous_end_offsets: Mapping[int, int] = field(default_factory=dict)

    # Time retention deletes a segment once its newest message is older than retention.ms; this margin
    # covers clock skew between the broker and this worker.
    CLOCK_MARGIN_MS = 60_000

    def lost(self, window: Window, partition: int, log_start: int, now_ms: float) -> str | None:
        """Why messages of `window` on `partition` may be among those deleted below `log_start`, or None
        when the evidence shows they were not (called when the window starts at or before log_start)."""
        own = self.window_starts.get(partition)
        if own is not None:
            if own >= log_start:
                return None
            return (
                f"this window's manifest says it started at offset {own}, below the first retained offset "
                f"{log_start}: its messages were deleted, so a rerun cannot reproduce it (its objects in S3 "
                "stay as the first run wrote them)"
            )
        read_up_to = self.previous_end_offsets.get(partition)
        if read_up_to is not None and read_up_to >= log_start:
            return None  # everything deleted precedes an earlier window's end, so this window's start
        if read_up_to is not None and self.previous_end == window.start:
            return (
                f"offsets {read_up_to}..{log_start - 1} were appended after the previous window "
                f"(ending {format_instant(window.start)}) and deleted before this window could read them"
            )
        time_only = self.retention_bytes is None or self.retention_bytes < 0
        if self.retention_ms is not None and self.retention_ms >= 0 and time_only:
            if window.start_ms >= now_ms - self.retention_ms + self.CLOCK_MARGIN_MS:
                return None  # time retention only deletes messages older than now - retention.ms
            return f"the window is older than the topic's retention ({self.retention_ms} ms)"
        if self.retention_bytes is not None and self.retention_bytes >= 0:
            return (
                f"the topic deletes by size (retention.bytes={self.retention_bytes}), which can remove messages "
                "of any age, and no earlier manifest shows the deleted offsets were read"
            )
        return "nothing shows the deleted offsets precede this window (no manifest of an earlier window reaches them)"


def read_topic_retention(admin: Any, topic: str, timeout: float) -> tuple[int | None, int | None]:
    """The topic's (retention.ms, retention.bytes) as the broker states them (-1: unlimited)."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    future = _kafka_call(
        f"the configuration of topic {topic!r}", lambda: admin.describe_configs([resource], request_timeout=timeout)
    )[resource]
    configs = _kafka_call(f"the configuration of topic {topic!r}", lambda: future.result(timeout=timeout))

    def number(name: str) -> int | None:
        entry = configs.get(name)
        return None if entry is None or entry.value is None else int(entry.value)

    return number("retention.ms"), number("retention.bytes")


def resolve_offsets(
    consumer: WindowConsumer,
    topic: str,
    window: Window,
    *,
    timeout: float,
    evidence: Callable[[], RetentionEvidence] | None = None,
    clock: Callable[[], float] = time.time,
) -> tuple[PartitionRange, ...]:
    """Exact offset range of the window on every partition (call once the window is closed).

    A partition whose first retained offset (log start) is above 0 had messages deleted. If the window
    starts at or before that offset, some deleted message may have been the window's: `evidence` (asked
    only then) decides from data whether that is excluded (see RetentionEvidence.lost); otherwise, or
    without evidence, the run fails with WindowExpiredError rather than writing an empty window.
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
    known: RetentionEvidence | None = None
    ranges = []
    for p in partitions:
        low, high = watermarks[p]
        end = ends[p] if ends[p] != OFFSET_END else high
        start = starts[p] if starts[p] != OFFSET_END else high
        start = min(start, end)
        if low > 0 and start <= low:
            if known is None:
                known = evidence() if evidence is not None else RetentionEvidence()
            why = known.lost(window, p, low, clock() * 1000)
            if why is not None:
                raise WindowExpiredError(
                    f"window [{format_instant(window.start)}, {format_instant(window.end)}) on {topic}[{p}]: offsets "
                    f"below {low} were deleted (retention) and messages of this window may be among them: {why}. "
                    "The window cannot be read completely; it is not retried. Check the topic's retention and "
                    "the ingest's backlog; the gap shows on the Market pipeline page."
                )
            log.info("%s[%d]: offsets below %d were deleted; none of them belonged to this window", topic, p, low)
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
