"""Seal a window: check every partition's part, write the window manifest LAST, commit, judge bad share.

Order of effects, and why:
1. read each planned partition's part manifest and check it against the plan (same window, same
   offsets), and check its objects are in S3 with the sizes it lists and that no other object of
   the partition lies inside the window's offsets (a duplicate would count twice in Athena);
2. write the window manifest (the same format as when one task wrote everything): its presence
   means the window is complete, and the catalog DAG and the UI read only it;
3. commit the end offsets to the consumer group (lag in Kafka tools reflects what is in S3; a
   backfill never moves the group backwards);
4. only then fail if the share of bad messages exceeds the limit, so the evidence is in S3.

Everything the seal writes is derived from the parts, so clearing it (or rerunning it) rewrites the
same manifest bytes and commits the same offsets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from market_pipeline import layout, s3io
from market_pipeline import manifest as mf
from market_pipeline.ingest.decode import DecodeMode
from market_pipeline.ingest.kafka_window import WindowConsumer, WindowError, commit_window
from market_pipeline.ingest.options import IngestOptions
from market_pipeline.ingest.plan import WindowPlan
from market_pipeline.schema import SCHEMA_VERSION

log = logging.getLogger(__name__)


def window_decode_mode(modes: list[str]) -> str:
    """A window's decode mode from its partitions': safe if any partition needed the Python decoder."""
    return DecodeMode.SAFE if DecodeMode.SAFE in modes else DecodeMode.FAST


class SealError(WindowError):
    """A part is missing or does not match the plan: the window is not sealed (no manifest written)."""


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
    partitions: int = 0
    # "safe" when some partition was decoded by the Python decoder alone (after an attempt that died)
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
            "partitions": self.partitions,
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


def read_parts(s3: Any, bucket: str, plan: WindowPlan) -> list[mf.PartManifest]:
    """Every planned partition's part manifest, checked against the plan; SealError names what is wrong."""
    parts, missing = [], []
    for rng in plan.ranges:
        key = layout.part_manifest_key(plan.table, plan.topic, plan.window.end, rng.partition)
        part = mf.read_part_manifest(s3, bucket, key)
        if part is None:
            missing.append(rng.partition)
            continue
        got = (part.table, part.topic, part.window_start, part.window_end)
        want = (plan.table, plan.topic, plan.window.start, plan.window.end)
        offsets = (part.partition.partition, part.partition.start_offset, part.partition.end_offset)
        if got != want or offsets != (rng.partition, rng.start_offset, rng.end_offset):
            raise SealError(
                f"window {plan.label}: the part of partition {rng.partition} ({key}) covers offsets "
                f"{part.partition.start_offset}..{part.partition.end_offset}, the plan "
                f"{rng.start_offset}..{rng.end_offset}: it was written for another plan. Rerun the whole window "
                "(clear plan_window and its downstream tasks)."
            )
        parts.append(part)
    if missing:
        raise SealError(
            f"window {plan.label}: no part manifest for partition(s) {missing}: their ingest task has not "
            "finished. Clear the failed ingest_partition task(s); the seal runs once every partition is in."
        )
    return parts


def check_objects(s3: Any, bucket: str, plan: WindowPlan, parts: list[mf.PartManifest]) -> None:
    """Every object a part lists is in S3 with its size, and no unlisted one lies inside its offsets."""
    problems = []
    for part in parts:
        p = part.partition
        listed = {o.key: o.bytes for o in part.objects}
        directories = sorted({layout.object_directory(key) for key in listed})
        found: dict[str, int] = {}
        for directory in directories:
            prefix = layout.partition_objects_prefix(directory, plan.topic, p.partition)
            found.update(s3io.list_sizes(s3, bucket, prefix))
        for key, size in listed.items():
            if key not in found:
                problems.append(f"missing {key}")
            elif found[key] != size:
                problems.append(f"{key} has {found[key]} bytes, its part says {size}")
        for key in found.keys() - listed.keys():
            parsed = layout.parse_key(key)
            if (
                parsed is not None
                and (parsed.table, parsed.topic, parsed.partition) == (plan.table, plan.topic, p.partition)
                and p.start_offset <= parsed.first_offset <= parsed.last_offset < p.end_offset
            ):
                problems.append(f"{key} lies inside partition {p.partition}'s window offsets but is in no part")
    if problems:
        raise SealError(
            f"window {plan.label} cannot be sealed: {'; '.join(problems[:10])}"
            f"{f' (and {len(problems) - 10} more)' if len(problems) > 10 else ''}. Rerun the affected "
            "ingest_partition task(s), then the seal."
        )


def seal_window(
    consumer: WindowConsumer,
    s3: Any,
    *,
    bucket: str,
    plan: WindowPlan,
    options: IngestOptions | None = None,
    stale_objects_deleted: int = 0,
    seconds: float = 0.0,
    decode_mode: str = DecodeMode.FAST,
) -> WindowResult:
    """Check the parts, write the window manifest, commit the offsets; see the module doc."""
    opts = options or IngestOptions()
    parts = read_parts(s3, bucket, plan)
    check_objects(s3, bucket, plan, parts)
    partitions = tuple(part.partition for part in parts)
    objects = tuple(sorted((o for part in parts for o in part.objects), key=lambda o: (o.kind, o.key)))
    messages_in = sum(p.messages for p in partitions)
    dlq_count = sum(p.dlq for p in partitions)
    exceeded = messages_in > 0 and dlq_count / messages_in > opts.max_bad_share
    manifest = mf.Manifest(
        table=plan.table,
        topic=plan.topic,
        window_start=plan.window.start,
        window_end=plan.window.end,
        schema_version=SCHEMA_VERSION,
        partitions=partitions,
        objects=objects,
        status="bad_share_exceeded" if exceeded else "ok",
        max_bad_share=opts.max_bad_share,
    )
    manifest_key = mf.write_manifest(s3, bucket, manifest)
    committed = commit_window(consumer, plan.topic, plan.ranges, opts.kafka_timeout)
    result = WindowResult(
        table=plan.table,
        topic=plan.topic,
        bucket=bucket,
        window_start=plan.window.start,
        window_end=plan.window.end,
        manifest_key=manifest_key,
        messages_in=messages_in,
        rows_out=manifest.rows_out,
        dlq_count=dlq_count,
        data_objects=len(manifest.data_objects),
        dlq_objects=len(manifest.dlq_objects),
        bytes_written=sum(o.bytes for o in objects),
        status=manifest.status,
        stale_objects_deleted=stale_objects_deleted,
        committed=committed,
        seconds=seconds,
        partitions=len(partitions),
        decode_mode=decode_mode,
    )
    log.info("window %s sealed: %s", plan.label, result.to_dict())
    if exceeded:
        raise BadShareExceededError(result, opts.max_bad_share)
    return result
