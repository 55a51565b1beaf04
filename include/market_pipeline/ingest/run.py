"""Ingest one broker-time window from Kafka into Parquet on S3, exactly once and reproducibly.

Order of effects, and why:
1. wait until the window is closed, then resolve its exact per-partition offset ranges (a partition
   whose old messages were deleted is checked against the topic's retention and earlier manifests);
   mark the attempt (``_attempts/``): a retry after an attempt that died without a word decodes with
   the Python decoder alone (:mod:`market_pipeline.ingest.attempts`);
2. read each partition's range in fixed offset chunks (bounded memory), decode, write one data object
   per chunk per event-time hour and one dead-letter object per chunk with bad messages (deterministic
   keys, overwrite);
3. delete objects a previous attempt left inside this window's offset ranges under other keys (only if
   the chunk size changed between attempts);
4. write the manifest LAST: its presence means the window is complete;
5. commit the end offsets to the consumer group (lag visible in Kafka tools);
6. only then fail if the share of bad messages exceeds the limit, so the evidence is in S3.

A failure anywhere before step 4 leaves no manifest; the retry rewrites the same keys with the same
bytes, so nothing is duplicated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from market_pipeline import layout, s3io
from market_pipeline import manifest as mf
from market_pipeline.ingest.attempts import begin_attempt, fail_attempt, finish_attempt
from market_pipeline.ingest.decode import DecodeMode, decode_batch
from market_pipeline.ingest.kafka_window import (
    Chunk,
    PartitionRange,
    RetentionEvidence,
    Window,
    WindowConsumer,
    commit_window,
    read_topic_retention,
    read_window,
    resolve_offsets,
    wait_until_closed,
)
from market_pipeline.ingest.parquet import write_dead_letters, write_rows
from market_pipeline.schema import SCHEMA_VERSION, TickContract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOptions:
    """Tunables of one window run (the DAG exposes the first three as Params)."""

    grace_seconds: float = 30.0
    max_bad_share: float = 0.01
    chunk_size: int = 100_000
    # How long a run may wait for its window to close before giving up (open or future window).
    max_wait_seconds: float = 300.0
    consume_batch: int = 10_000
    kafka_timeout: float = 30.0
    # The topic's time retention; None: read retention.ms and retention.bytes from the broker (with an
    # admin client), or, without one, decide from earlier manifests alone (see RetentionEvidence).
    retention_ms: int | None = None
    # The tick contract's settings (event-time floor and skew); the DAG passes the PIPELINE_* settings.
    contract: TickContract = field(default_factory=TickContract)
    # None: fast, or safe after an attempt that died (see ingest.attempts); a mode here forces it.
    decode_mode: DecodeMode | None = None
    progress_interval: float = 10.0
    # Chunks decoded/written by worker threads while the next ones are read. Arrow (JSON parse,
    # Parquet, zstd) and socket I/O release the GIL, so two writers use a second core; the number of
    # pending chunks bounds memory.
    max_pending_chunks: int = 2
    writer_threads: int = 2

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.consume_batch < 1:
            raise ValueError("chunk_size and consume_batch must be positive")
        if not 0.0 <= self.max_bad_share <= 1.0:
            raise ValueError("max_bad_share must be between 0 and 1")
        if self.grace_seconds < 0:
            raise ValueError("grace_seconds must not be negative")


@dataclass(frozen=True)
class WindowResult:
    """What a window run did; `to_dict()` is the XCom / asset-event payload."""

    table: str
    topic: str
    bucket: str
    window_start: datetime
    window_end: datetime
    manifest_key: str
    messages_in: int
    rows_out: int
    dlq_count: int
    data_objects: int
    dlq_objects: int
    bytes_written: int
    status: str
    stale_objects_deleted: int = 0
    committed: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    decode_mode: str = DecodeMode.FAST

    @property
    def bad_share(self) -> float:
        return self.dlq_count / self.messages_in if self.messages_in else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "topic": self.topic,
            "bucket": self.bucket,
            "window_start": layout.format_instant(self.window_start),
            "window_end": layout.format_instant(self.window_end),
            "manifest_key": self.manifest_key,
            "messages_in": self.messages_in,
            "rows_out": self.rows_out,
            "dlq_count": self.dlq_count,
            "bad_share": round(self.bad_share, 6),
            "data_objects": self.data_objects,
            "dlq_objects": self.dlq_objects,
            "bytes_written": self.bytes_written,
            "status": self.status,
            "stale_objects_deleted": self.stale_objects_deleted,
            "committed": {str(p): o for p, o in sorted(self.committed.items())},
            "seconds": round(self.seconds, 3),
            "decode_mode": str(self.decode_mode),
        }


class BadShareExceededError(RuntimeError):
    """Too many bad messages: everything was written (rows, DLQ, manifest), then the run fails."""

    def __init__(self, result: WindowResult, max_bad_share: float) -> None:
        super().__init__(
            f"{result.dlq_count} of {result.messages_in} messages ({result.bad_share:.2%}) in window "
            f"[{layout.format_instant(result.window_start)}, {layout.format_instant(result.window_end)}) went to the "
            f"dead-letter area, above the limit of {max_bad_share:.2%}; see "
            f"{layout.dlq_prefix(result.table)} and {result.manifest_key}"
        )
        self.result = result


@dataclass
class _ChunkOutcome:
    partition: int
    messages: int
    rows: int
    dlq: int
    objects: list[mf.ObjectEntry]


def ingest_window(
    consumer: WindowConsumer,
    s3: Any,
    *,
    bucket: str,
    table: str,
    topic: str,
    window_start: datetime,
    window_end: datetime,
    options: IngestOptions | None = None,
    clock: Callable[[], float] = time.time,
    admin: Any | None = None,
) -> WindowResult:
    """Ingest the messages with broker timestamps in [window_start, window_end); see module doc.

    `admin` (a confluent AdminClient) lets the run read the topic's retention from the broker.
    """
    opts = options or IngestOptions()
    began = time.monotonic()
    # Arrow's compute registry costs ~1 s on first use; warm it while we talk to the broker.
    threading.Thread(target=_warm_up_arrow, name="arrow-warm-up", daemon=True).start()
    window = Window(window_start.astimezone(UTC), window_end.astimezone(UTC))
    label = f"{topic} [{layout.format_instant(window.start)}, {layout.format_instant(window.end)})"

    wait_until_closed(
        consumer,
        topic,
        window,
        grace_seconds=opts.grace_seconds,
        max_wait_seconds=opts.max_wait_seconds,
        timeout=opts.kafka_timeout,
        clock=clock,
    )
    ranges = resolve_offsets(
        consumer,
        topic,
        window,
        timeout=opts.kafka_timeout,
        evidence=lambda: retention_evidence(s3, bucket, table, topic, window, admin, opts),
        clock=clock,
    )
    total = sum(r.count for r in ranges)
    log.info(
        "window %s: %d messages, offsets %s",
        label,
        total,
        ", ".join(f"p{r.partition}:{r.start_offset}..{r.end_offset}" for r in ranges),
    )

    attempt = begin_attempt(s3, bucket, table, window.end, forced_mode=opts.decode_mode)
    if attempt.mode is not DecodeMode.FAST:
        log.warning("window %s: decoding in %s mode (%s)", label, attempt.mode, attempt.reason)
    try:
        manifest, stale = _write_window(
            consumer, s3, bucket, table, topic, window, ranges, total, opts, label, attempt.mode
        )
    except BaseException as exc:
        fail_attempt(s3, attempt, exc)
        raise
    finish_attempt(s3, attempt)
    committed = commit_window(consumer, topic, ranges, opts.kafka_timeout)

    result = WindowResult(
        table=table,
        topic=topic,
        bucket=bucket,
        window_start=window.start,
        window_end=window.end,
        manifest_key=manifest.key,
        messages_in=manifest.messages_in,
        rows_out=manifest.rows_out,
        dlq_count=manifest.dlq_count,
        data_objects=len(manifest.data_objects),
        dlq_objects=len(manifest.dlq_objects),
        bytes_written=sum(o.bytes for o in manifest.objects),
        status=manifest.status,
        stale_objects_deleted=stale,
        committed=committed,
        seconds=time.monotonic() - began,
        decode_mode=attempt.mode,
    )
    log.info("window %s done: %s", label, result.to_dict())
    if manifest.status == "bad_share_exceeded":
        raise BadShareExceededError(result, opts.max_bad_share)
    return result


def retention_evidence(
    s3: Any, bucket: str, table: str, topic: str, window: Window, admin: Any | None, opts: IngestOptions
) -> RetentionEvidence:
    """What the broker and earlier manifests say about deleted messages (asked only when some were)."""
    own = mf.read_manifest(s3, bucket, layout.manifest_key(table, window.end))
    previous = mf.previous_manifest(s3, bucket, table, window.start)
    retention_ms, retention_bytes = opts.retention_ms, None
    if retention_ms is None and admin is not None:
        retention_ms, retention_bytes = read_topic_retention(admin, topic, opts.kafka_timeout)
    return RetentionEvidence(
        retention_ms=retention_ms,
        retention_bytes=retention_bytes,
        window_starts={p.partition: p.start_offset for p in own.partitions} if own else {},
        previous_end=previous.window_end if previous else None,
        previous_end_offsets={p.partition: p.end_offset for p in previous.partitions} if previous else {},
    )


def _write_window(
    consumer: WindowConsumer,
    s3: Any,
    bucket: str,
    table: str,
    topic: str,
    window: Window,
    ranges: tuple[PartitionRange, ...],
    total: int,
    opts: IngestOptions,
    label: str,
    mode: DecodeMode,
) -> tuple[mf.Manifest, int]:
    """Every object of the window, then its manifest (last); returns the manifest and stale deletions."""
    outcomes = _write_chunks(consumer, s3, bucket, table, topic, ranges, total, opts, label, mode)

    objects = sorted((o for out in outcomes for o in out.objects), key=lambda o: (o.kind, o.key))
    stale = _delete_stale(s3, bucket, table, topic, window, ranges, {o.key for o in objects})
    partitions = tuple(
        mf.PartitionSummary(
            partition=r.partition,
            start_offset=r.start_offset,
            end_offset=r.end_offset,
            messages=sum(o.messages for o in outcomes if o.partition == r.partition),
            rows=sum(o.rows for o in outcomes if o.partition == r.partition),
            dlq=sum(o.dlq for o in outcomes if o.partition == r.partition),
        )
        for r in ranges
    )
    for summary, rng in zip(partitions, ranges, strict=True):
        if summary.messages != rng.count:  # offsets with no message (e.g. compaction): say so
            log.warning("partition %d: %d messages in %d offsets", rng.partition, summary.messages, rng.count)
    messages_in = sum(p.messages for p in partitions)
    dlq_count = sum(p.dlq for p in partitions)
    exceeded = messages_in > 0 and dlq_count / messages_in > opts.max_bad_share
    manifest = mf.Manifest(
        table=table,
        topic=topic,
        window_start=window.start,
        window_end=window.end,
        schema_version=SCHEMA_VERSION,
        partitions=partitions,
        objects=tuple(objects),
        status="bad_share_exceeded" if exceeded else "ok",
        max_bad_share=opts.max_bad_share,
    )
    mf.write_manifest(s3, bucket, manifest)
    return manifest, stale


def _warm_up_arrow() -> None:
    pc.equal(pa.array([1]), 1)


def _write_chunks(
    consumer: WindowConsumer,
    s3: Any,
    bucket: str,
    table: str,
    topic: str,
    ranges: tuple[PartitionRange, ...],
    total: int,
    opts: IngestOptions,
    label: str,
    mode: DecodeMode = DecodeMode.FAST,
) -> list[_ChunkOutcome]:
    """Read every range chunk by chunk; decode+write in a worker thread while the next chunk is read."""
    outcomes: list[_ChunkOutcome] = []
    pending: deque[Future[_ChunkOutcome]] = deque()
    started = last_log = time.monotonic()
    read = 0
    chunks = read_window(
        consumer,
        topic,
        ranges,
        chunk_size=opts.chunk_size,
        batch_size=opts.consume_batch,
        timeout=opts.kafka_timeout,
    )
    with ThreadPoolExecutor(max_workers=opts.writer_threads, thread_name_prefix="ingest-writer") as pool:
        try:
            for chunk in chunks:
                read += len(chunk)
                pending.append(pool.submit(_write_chunk, s3, bucket, table, topic, chunk, opts.contract, mode))
                while len(pending) > opts.max_pending_chunks:
                    outcomes.append(pending.popleft().result())
                now = time.monotonic()
                if now - last_log >= opts.progress_interval:
                    rate = read / max(now - started, 1e-9)
                    log.info("window %s: read %d/%d messages (%.0f msg/s)", label, read, total, rate)
                    last_log = now
            while pending:
                outcomes.append(pending.popleft().result())
        finally:
            chunks.close()  # unassigns now, while the consumer is still open
            for future in pending:
                future.cancel()
    return outcomes


def _write_chunk(
    s3: Any, bucket: str, table: str, topic: str, chunk: Chunk, contract: TickContract, mode: DecodeMode
) -> _ChunkOutcome:
    decoded = decode_batch(chunk, contract, mode)
    objects = write_rows(s3, bucket, table, topic, chunk.partition, decoded.rows)
    objects += write_dead_letters(s3, bucket, table, topic, chunk.partition, decoded.dlq)
    return _ChunkOutcome(chunk.partition, len(chunk), decoded.rows.num_rows, decoded.dlq.num_rows, objects)


def _delete_stale(
    s3: Any,
    bucket: str,
    table: str,
    topic: str,
    window: Window,
    ranges: tuple[PartitionRange, ...],
    written: set[str],
) -> int:
    """Delete objects inside this window's offset ranges that this attempt did not write.

    They exist only if an earlier attempt chunked differently (another chunk_size); leaving them would
    duplicate rows. Objects of other windows are never touched: windows own disjoint offset ranges.
    """
    owned = {r.partition: (r.start_offset, r.end_offset) for r in ranges if r.count > 0}
    if not owned:
        return 0
    prefixes = {key.rsplit("/", 1)[0] + "/" for key in written}
    previous = mf.read_manifest(s3, bucket, layout.manifest_key(table, window.end))
    if previous is not None:
        prefixes.update(o.key.rsplit("/", 1)[0] + "/" for o in previous.objects)
    day = window.start.date()
    while day <= (window.end - timedelta(milliseconds=1)).date():
        prefixes.add(layout.dlq_day_prefix(table, day.isoformat()))
        day += timedelta(days=1)
    deleted = 0
    for prefix in sorted(prefixes):
        for key in s3io.list_keys(s3, bucket, prefix):
            parts = layout.parse_key(key)
            if parts is None or key in written or parts.topic != topic or parts.table != table:
                continue
            bounds = owned.get(parts.partition)
            if bounds and bounds[0] <= parts.first_offset and parts.last_offset < bounds[1]:
                log.warning("deleting stale object %s (inside this window's offsets, not rewritten)", key)
                s3.delete_object(Bucket=bucket, Key=key)
                deleted += 1
    return deleted
