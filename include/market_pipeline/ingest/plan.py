"""Plan a window: wait until it is closed, resolve every partition's exact offsets, spread them over tasks.

Why a plan: Kafka's unit of parallelism is the partition, so a window is ingested by independent tasks,
one per partition (or per group of partitions when there are more than ``max_ingest_tasks``). They must
all read the offsets resolved once, at one moment, and the seal must check them against the same
ranges; the plan is that record. It is small and JSON-serialisable (it travels as an XCom), and
derived only from the broker: planning the same closed window again gives the same plan.

How partitions are grouped does not change the output: every object key, part manifest and the window
manifest depend on the partition and its offsets only, never on which task read them.

Resolving is where retention is judged: a partition whose old messages were deleted is checked against
the topic's retention (read from the broker) and the manifests of this and earlier windows, so an idle
partition emptied by retention plans as empty while a window whose messages really were deleted fails
(:class:`market_pipeline.ingest.kafka_window.RetentionEvidence`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from market_pipeline import layout
from market_pipeline import manifest as mf
from market_pipeline.ingest.kafka_window import (
    PartitionRange,
    RetentionEvidence,
    Window,
    WindowConsumer,
    read_topic_retention,
    resolve_offsets,
    wait_until_closed,
)
from market_pipeline.ingest.options import IngestOptions


@dataclass(frozen=True)
class WindowPlan:
    """A closed window's exact per-partition offset ranges and the tasks they are spread over."""

    table: str
    topic: str
    window: Window
    ranges: tuple[PartitionRange, ...]
    tasks: tuple[tuple[int, ...], ...]  # partition ids per task, each sorted; every partition once

    def __post_init__(self) -> None:
        owned = sorted(p for task in self.tasks for p in task)
        if owned != sorted(r.partition for r in self.ranges):
            raise ValueError(f"the tasks {self.tasks} do not cover each partition of {self.ranges} exactly once")

    @property
    def messages(self) -> int:
        return sum(r.count for r in self.ranges)

    @property
    def label(self) -> str:
        return f"{self.topic} [{layout.format_instant(self.window.start)}, {layout.format_instant(self.window.end)})"

    def ranges_of(self, partitions: tuple[int, ...] | list[int]) -> tuple[PartitionRange, ...]:
        by_partition = {r.partition: r for r in self.ranges}
        return tuple(by_partition[p] for p in partitions)

    def work(self) -> list[dict[str, Any]]:
        """One self-contained work item per task (what `ingest_partition` is expanded over); together
        they are the plan (`from_work`), so the plan travels as this one JSON list."""
        return [
            PartitionWork(self.table, self.topic, self.window, self.ranges_of(task)).to_dict() for task in self.tasks
        ]

    @classmethod
    def from_work(cls, items: list[dict[str, Any]]) -> WindowPlan:
        """The plan back from its work items (what the seal gets: the plan task's one XCom)."""
        work = [PartitionWork.from_dict(item) for item in items]
        if not work:
            raise ValueError("a plan has at least one work item")
        first = work[0]
        if any((w.table, w.topic, w.window) != (first.table, first.topic, first.window) for w in work):
            raise ValueError("the work items belong to different windows")
        ranges = tuple(sorted((r for w in work for r in w.ranges), key=lambda r: r.partition))
        return cls(
            first.table, first.topic, first.window, ranges, tuple(tuple(r.partition for r in w.ranges) for w in work)
        )


@dataclass(frozen=True)
class PartitionWork:
    """What one ingest task reads: some partitions' ranges of one window (a `WindowPlan.work()` item)."""

    table: str
    topic: str
    window: Window
    ranges: tuple[PartitionRange, ...]

    @property
    def label(self) -> str:
        """A short name for logs and Airflow's map index: ``p3`` or ``p0,p4,p8``."""
        return ",".join(f"p{r.partition}" for r in self.ranges)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "topic": self.topic,
            "window_start": layout.format_instant(self.window.start),
            "window_end": layout.format_instant(self.window.end),
            "ranges": [[r.partition, r.start_offset, r.end_offset] for r in self.ranges],
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> PartitionWork:
        return cls(
            table=doc["table"],
            topic=doc["topic"],
            window=Window(layout.parse_instant(doc["window_start"]), layout.parse_instant(doc["window_end"])),
            ranges=tuple(PartitionRange(int(p), int(s), int(e)) for p, s, e in doc["ranges"]),
        )


def group_partitions(ranges: tuple[PartitionRange, ...], max_tasks: int) -> tuple[tuple[int, ...], ...]:
    """Spread partitions over at most `max_tasks` tasks: one each when they fit, else balanced by messages.

    Balancing is greedy (largest range first, onto the task with the fewest messages so far, then the
    fewest partitions, so no task is left empty; ties go to the lower partition and the lower task), so
    the same ranges always give the same groups.
    """
    if max_tasks < 1:
        raise ValueError("max_tasks must be at least 1")
    if len(ranges) <= max_tasks:
        return tuple((r.partition,) for r in sorted(ranges, key=lambda r: r.partition))
    loads = [0] * max_tasks
    groups: list[list[int]] = [[] for _ in range(max_tasks)]
    for rng in sorted(ranges, key=lambda r: (-r.count, r.partition)):
        task = min(range(max_tasks), key=lambda i: (loads[i], len(groups[i]), i))
        groups[task].append(rng.partition)
        loads[task] += rng.count
    return tuple(sorted(tuple(sorted(group)) for group in groups))


def plan_window(
    consumer: WindowConsumer,
    s3: Any,
    *,
    bucket: str,
    table: str,
    topic: str,
    window_start: datetime,
    window_end: datetime,
    options: IngestOptions | None = None,
    admin: Any | None = None,
    clock: Callable[[], float] = time.time,
) -> WindowPlan:
    """Wait until the window is closed, resolve its offsets (failing on expired ranges), group them.

    `s3` holds the manifests that are evidence about deleted offsets; `admin` (a confluent AdminClient)
    lets the plan read the topic's retention from the broker.
    """
    opts = options or IngestOptions()
    window = Window(window_start.astimezone(UTC), window_end.astimezone(UTC))
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
    return WindowPlan(table, topic, window, ranges, group_partitions(ranges, opts.max_ingest_tasks))


def retention_evidence(
    s3: Any, bucket: str, table: str, topic: str, window: Window, admin: Any | None, opts: IngestOptions
) -> RetentionEvidence:
    """What the broker and earlier manifests say about deleted messages (asked only when some were)."""
    own = mf.read_manifest(s3, bucket, layout.manifest_key(table, window.end))
    # Without a window manifest (never sealed), the parts earlier attempts wrote say where it started.
    parts = () if own else mf.read_part_manifests(s3, bucket, table, window.end)
    own_partitions = own.partitions if own else tuple(p.partition for p in parts if p.topic == topic)
    previous = mf.previous_manifest(s3, bucket, table, window.start)
    retention_ms, retention_bytes = opts.retention_ms, None
    if retention_ms is None and admin is not None:
        retention_ms, retention_bytes = read_topic_retention(admin, topic, opts.kafka_timeout)
    return RetentionEvidence(
        retention_ms=retention_ms,
        retention_bytes=retention_bytes,
        window_starts={p.partition: p.start_offset for p in own_partitions},
        previous_end=previous.window_end if previous else None,
        previous_end_offsets={p.partition: p.end_offset for p in previous.partitions} if previous else {},
    )
