"""Ingest some partitions of a planned window: objects first, then one part manifest per partition.

Order of effects, per task, and why:
1. read the task's partition ranges (one consumer serves them all) in fixed offset chunks (bounded
   memory), decode, write one data object per chunk per event-time hour and one dead-letter object
   per chunk with bad messages (deterministic keys, overwrite);
2. per partition, delete objects a previous attempt left inside its offset range under other keys
   (only if the chunk size changed between attempts);
3. per partition, write its part manifest LAST: its presence means the partition is complete.

Before reading, each partition with messages marks its attempt (``_attempts/<table>/<window end>/p<N>``,
:mod:`market_pipeline.ingest.attempts`) and drops the mark once its part manifest is written. A retry
of the task after its process died without a word (a native crash, a kill) finds the mark still
"running" and decodes that partition with the Python decoder alone: slower, the same bytes, so one bug
in a native library cannot block a window forever.

Nothing is committed to Kafka here and no bad-share limit is applied: the seal does both, once every
partition is in. A failure anywhere leaves that partition without a (new) part manifest; the retry
rewrites the same keys with the same bytes, so nothing is duplicated. Partitions never touch each
other's objects, so tasks of one window run in any order, on any worker, at the same time.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from market_pipeline import layout, s3io
from market_pipeline import manifest as mf
from market_pipeline.ingest.attempts import Attempt, begin_attempt, fail_attempt, finish_attempt
from market_pipeline.ingest.decode import DecodeMode, decode_batch
from market_pipeline.ingest.kafka_window import Chunk, PartitionRange, Window, WindowConsumer, read_window
from market_pipeline.ingest.options import IngestOptions
from market_pipeline.ingest.parquet import write_dead_letters, write_rows
from market_pipeline.ingest.plan import PartitionWork
from market_pipeline.schema import SCHEMA_VERSION, TickContract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionResult:
    """What one partition's ingest wrote (its part manifest) and how many stale objects it removed."""

    part: mf.PartManifest
    stale_objects_deleted: int = 0
    decode_mode: DecodeMode = DecodeMode.FAST  # not in the part manifest: both modes write the same bytes

    def to_dict(self) -> dict[str, Any]:
        summary = self.part.partition
        return {
            "partition": summary.partition,
            "start_offset": summary.start_offset,
            "end_offset": summary.end_offset,
            "messages": summary.messages,
            "rows": summary.rows,
            "dlq": summary.dlq,
            "objects": len(self.part.objects),
            "bytes_written": sum(o.bytes for o in self.part.objects),
            "part_manifest_key": self.part.key,
            "stale_objects_deleted": self.stale_objects_deleted,
            "decode_mode": str(self.decode_mode),
        }


@dataclass
class _ChunkOutcome:
    partition: int
    messages: int
    rows: int
    dlq: int
    objects: list[mf.ObjectEntry] = field(default_factory=list)


def ingest_partitions(
    consumer: WindowConsumer,
    s3: Any,
    *,
    bucket: str,
    work: PartitionWork,
    options: IngestOptions | None = None,
) -> list[PartitionResult]:
    """Ingest `work`'s partition ranges; returns one result per partition, in partition order."""
    opts = options or IngestOptions()
    began = time.monotonic()
    # Arrow's compute registry costs ~1 s on first use; warm it while we talk to the broker.
    threading.Thread(target=_warm_up_arrow, name="arrow-warm-up", daemon=True).start()
    label = f"{work.topic} [{layout.format_instant(work.window.start)}, {layout.format_instant(work.window.end)}) {work.label}"
    total = sum(r.count for r in work.ranges)
    log.info(
        "window %s: %d messages, offsets %s",
        label,
        total,
        ", ".join(f"p{r.partition}:{r.start_offset}..{r.end_offset}" for r in work.ranges),
    )
    attempts = _begin_attempts(s3, bucket, work, opts, label)
    modes = {p: a.mode for p, a in attempts.items()}
    finished: set[int] = set()
    try:
        with _cyclic_gc_paused():
            outcomes = _write_chunks(consumer, s3, bucket, work, total, opts, label, modes)
        results = []
        for rng in sorted(work.ranges, key=lambda r: r.partition):
            mode = modes.get(rng.partition, opts.decode_mode or DecodeMode.FAST)
            results.append(_finish_partition(s3, bucket, work, rng, outcomes, mode))
            if rng.partition in attempts:
                finish_attempt(s3, attempts[rng.partition])
            finished.add(rng.partition)
    except BaseException as exc:
        for partition, attempt in attempts.items():
            if partition not in finished:
                fail_attempt(s3, attempt, exc)
        raise
    log.info("window %s: %d partitions written in %.1fs", label, len(results), time.monotonic() - began)
    return results


def _begin_attempts(s3: Any, bucket: str, work: PartitionWork, opts: IngestOptions, label: str) -> dict[int, Attempt]:
    """Mark an attempt on every partition with messages; its mode is safe if the previous one died."""
    attempts = {}
    for rng in work.ranges:
        if rng.count == 0:
            continue  # nothing to decode, nothing that can crash
        attempt = begin_attempt(
            s3,
            bucket,
            work.table,
            work.window.end,
            scope=layout.partition_scope(rng.partition),
            forced_mode=opts.decode_mode,
        )
        if attempt.mode is not DecodeMode.FAST:
            log.warning(
                "window %s: partition %d decodes in %s mode (%s)", label, rng.partition, attempt.mode, attempt.reason
            )
        attempts[rng.partition] = attempt
    return attempts


def _finish_partition(
    s3: Any, bucket: str, work: PartitionWork, rng: PartitionRange, outcomes: list[_ChunkOutcome], mode: DecodeMode
) -> PartitionResult:
    """Delete what an earlier chunking left inside the partition's offsets, then write its part manifest."""
    mine = [o for o in outcomes if o.partition == rng.partition]
    objects = tuple(sorted((o for out in mine for o in out.objects), key=lambda o: (o.kind, o.key)))
    summary = mf.PartitionSummary(
        partition=rng.partition,
        start_offset=rng.start_offset,
        end_offset=rng.end_offset,
        messages=sum(o.messages for o in mine),
        rows=sum(o.rows for o in mine),
        dlq=sum(o.dlq for o in mine),
    )
    if summary.messages != rng.count:  # offsets with no message (e.g. compaction): say so
        log.warning("partition %d: %d messages in %d offsets", rng.partition, summary.messages, rng.count)
    part = mf.PartManifest(
        table=work.table,
        topic=work.topic,
        window_start=work.window.start,
        window_end=work.window.end,
        schema_version=SCHEMA_VERSION,
        partition=summary,
        objects=objects,
    )
    stale = delete_stale_objects(s3, bucket, work.table, work.topic, work.window, rng, objects)
    mf.write_part_manifest(s3, bucket, part)
    return PartitionResult(part, stale, mode)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a window is read (reference counting still frees).

    consume() creates a Message object per message, a GC-tracked allocation, so the collector ran every
    few hundred messages and scanned everything alive: profiled, it took about half the reading thread's
    time, holding the GIL that the decode/write threads wait for. The read loop builds no reference
    cycles (messages, bytes, lists, NumPy and Arrow arrays), so nothing accumulates while it is paused.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _warm_up_arrow() -> None:
    pc.equal(pa.array([1]), 1)


def _write_chunks(
    consumer: WindowConsumer,
    s3: Any,
    bucket: str,
    work: PartitionWork,
    total: int,
    opts: IngestOptions,
    label: str,
    modes: dict[int, DecodeMode],
) -> list[_ChunkOutcome]:
    """Read every range chunk by chunk; decode+write in worker threads while the next chunk is read."""
    outcomes: list[_ChunkOutcome] = []
    pending: deque[Future[_ChunkOutcome]] = deque()
    started = last_log = time.monotonic()
    read = 0
    chunks = read_window(
        consumer,
        work.topic,
        work.ranges,
        chunk_size=opts.chunk_size,
        batch_size=opts.consume_batch,
        timeout=opts.kafka_timeout,
    )
    with ThreadPoolExecutor(max_workers=opts.writer_threads, thread_name_prefix="ingest-writer") as pool:
        try:
            for chunk in chunks:
                read += len(chunk)
                mode = modes.get(chunk.partition, DecodeMode.FAST)
                pending.append(
                    pool.submit(_write_chunk, s3, bucket, work.table, work.topic, chunk, opts.contract, mode)
                )
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


def delete_stale_objects(
    s3: Any,
    bucket: str,
    table: str,
    topic: str,
    window: Window,
    rng: PartitionRange,
    written: tuple[mf.ObjectEntry, ...],
) -> int:
    """Delete this partition's objects inside its window offsets that this attempt did not write.

    They exist only if an earlier attempt chunked differently (another chunk_size); leaving them would
    duplicate rows. Other partitions' objects and other windows' are never touched: windows own
    disjoint offset ranges, and every listing is narrowed to this partition's keys.
    """
    if rng.count == 0:
        return 0
    keys = {o.key for o in written}
    directories = {layout.object_directory(key) for key in keys}
    earlier = [
        mf.read_part_manifest(s3, bucket, layout.part_manifest_key(table, topic, window.end, rng.partition)),
        mf.read_manifest(s3, bucket, layout.manifest_key(table, window.end)),
    ]
    for previous in earlier:
        if previous is not None:
            directories.update(layout.object_directory(o.key) for o in previous.objects if o.partition == rng.partition)
    day = window.start.date()
    while day <= (window.end - timedelta(milliseconds=1)).date():
        directories.add(layout.dlq_day_prefix(table, day.isoformat()))
        day += timedelta(days=1)
    deleted = 0
    for directory in sorted(directories):
        for key in s3io.list_keys(s3, bucket, layout.partition_objects_prefix(directory, topic, rng.partition)):
            parts = layout.parse_key(key)
            if parts is None or key in keys or parts.topic != topic or parts.table != table:
                continue
            if (
                parts.partition == rng.partition
                and rng.start_offset <= parts.first_offset <= parts.last_offset < rng.end_offset
            ):
                log.warning("deleting stale object %s (inside this window's offsets, not rewritten)", key)
                s3.delete_object(Bucket=bucket, Key=key)
                deleted += 1
    return deleted
