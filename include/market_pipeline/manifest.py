"""Per-window manifests: what a window consumed (offsets, counts) and wrote (keys, sizes, rows).

Why: the manifest is the window's commit record. It is written last, after every data and dead-letter
object, so its presence means the window is complete; the catalog DAG reconciles Athena counts against
it and the UI lists the latest windows from it. Its content is derived from data only (no run ids, no
wall-clock time), so a rerun writes the same bytes.

Key: :func:`market_pipeline.layout.manifest_key` (the window end, e.g. ``2026-11-25T10:05:00Z``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from market_pipeline import layout, s3io

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class PartitionSummary:
    """One partition's share of the window: offsets [start_offset, end_offset) and where they went."""

    partition: int
    start_offset: int
    end_offset: int
    messages: int
    rows: int
    dlq: int


@dataclass(frozen=True)
class ObjectEntry:
    """One object the window wrote. `kind` is "data" (raw/) or "dlq"."""

    key: str
    kind: str
    partition: int
    first_offset: int
    last_offset: int
    rows: int
    bytes: int
    dt: str
    hour: int | None = None


@dataclass(frozen=True)
class Manifest:
    """Everything a window consumed and wrote; `status` is "ok" or "bad_share_exceeded"."""

    table: str
    topic: str
    window_start: datetime
    window_end: datetime
    schema_version: int
    partitions: tuple[PartitionSummary, ...]
    objects: tuple[ObjectEntry, ...]
    status: str = "ok"
    max_bad_share: float | None = None
    manifest_version: int = MANIFEST_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def messages_in(self) -> int:
        return sum(p.messages for p in self.partitions)

    @property
    def rows_out(self) -> int:
        return sum(p.rows for p in self.partitions)

    @property
    def dlq_count(self) -> int:
        return sum(p.dlq for p in self.partitions)

    @property
    def data_objects(self) -> tuple[ObjectEntry, ...]:
        return tuple(o for o in self.objects if o.kind == "data")

    @property
    def dlq_objects(self) -> tuple[ObjectEntry, ...]:
        return tuple(o for o in self.objects if o.kind == "dlq")

    @property
    def key(self) -> str:
        return layout.manifest_key(self.table, self.window_end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_version": self.manifest_version,
            "table": self.table,
            "topic": self.topic,
            "window_start": layout.format_instant(self.window_start),
            "window_end": layout.format_instant(self.window_end),
            "schema_version": self.schema_version,
            "status": self.status,
            "max_bad_share": self.max_bad_share,
            "messages_in": self.messages_in,
            "rows_out": self.rows_out,
            "dlq_count": self.dlq_count,
            "partitions": [asdict(p) for p in self.partitions],
            "objects": [asdict(o) for o in self.objects],
            "extra": self.extra,
        }

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys), so equal manifests are equal bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=1).encode()

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Manifest:
        return cls(
            table=doc["table"],
            topic=doc["topic"],
            window_start=layout.parse_instant(doc["window_start"]),
            window_end=layout.parse_instant(doc["window_end"]),
            schema_version=doc["schema_version"],
            partitions=tuple(PartitionSummary(**p) for p in doc["partitions"]),
            objects=tuple(ObjectEntry(**o) for o in doc["objects"]),
            status=doc.get("status", "ok"),
            max_bad_share=doc.get("max_bad_share"),
            manifest_version=doc.get("manifest_version", MANIFEST_VERSION),
            extra=doc.get("extra", {}),
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Manifest:
        return cls.from_dict(json.loads(data))


def write_manifest(s3: Any, bucket: str, manifest: Manifest) -> str:
    """Write (overwrite) the manifest; call it only after every object of the window is written."""
    key = manifest.key
    s3io.put_bytes(s3, bucket, key, manifest.to_json(), s3io.JSON_CONTENT_TYPE)
    return key


def read_manifest(s3: Any, bucket: str, key: str) -> Manifest | None:
    """The manifest at `key`, or None if there is none."""
    body = s3io.get_bytes(s3, bucket, key)
    return None if body is None else Manifest.from_json(body)


def manifest_keys(s3: Any, bucket: str, table: str) -> list[tuple[datetime, str]]:
    """(window end, key) of every manifest of a table, oldest window end first."""
    prefix = layout.manifest_prefix(table)
    dated = ((layout.instant_of(key, prefix), key) for key in s3io.list_keys(s3, bucket, prefix))
    return sorted((end, key) for end, key in dated if end is not None)


def list_manifests(
    s3: Any,
    bucket: str,
    table: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Manifest]:
    """Manifests of the windows inside [start, end) (window_start >= start, window_end <= end).

    This is what the catalog DAG reconciles against for its data interval: with 5-minute ingest
    windows, the interval [00:00, 01:00) holds twelve manifests when ingest is complete.
    """
    manifests = []
    for window_end, key in manifest_keys(s3, bucket, table):
        if end is not None and window_end > end:
            continue
        if start is not None and window_end <= start:
            continue
        manifest = read_manifest(s3, bucket, key)
        if manifest is None:
            continue
        if start is not None and manifest.window_start < start:
            continue
        manifests.append(manifest)
    return manifests


def latest_manifests(s3: Any, bucket: str, table: str, limit: int = 10) -> list[Manifest]:
    """The `limit` most recent windows, newest first (for a UI page)."""
    keys = [key for _, key in manifest_keys(s3, bucket, table)[-limit:]] if limit > 0 else []
    found = (read_manifest(s3, bucket, key) for key in reversed(keys))
    return [m for m in found if m is not None]


def previous_manifest(s3: Any, bucket: str, table: str, before: datetime, max_days: int = 31) -> Manifest | None:
    """The manifest of the newest window ending at or before `before`, looking back at most `max_days`.

    The window ending exactly at `before` (the usual predecessor) costs one GET; otherwise one listing
    per day back, since manifest names start with their end instant.
    """
    contiguous = read_manifest(s3, bucket, layout.manifest_key(table, before))
    if contiguous is not None:
        return contiguous
    prefix = layout.manifest_prefix(table)
    day = before.date()
    for _ in range(max_days):
        dated = (
            (layout.instant_of(key, prefix), key)
            for key in s3io.list_keys(s3, bucket, layout.manifest_day_prefix(table, day.isoformat()))
        )
        earlier = sorted((end, key) for end, key in dated if end is not None and end <= before)
        if earlier:
            return read_manifest(s3, bucket, earlier[-1][1])
        day -= timedelta(days=1)
    return None


def next_manifest(s3: Any, bucket: str, table: str, after: datetime, max_days: int = 31) -> Manifest | None:
    """The manifest of the oldest window starting at or after `after`, looking ahead at most `max_days`."""
    prefix = layout.manifest_prefix(table)
    day = after.date()
    for _ in range(max_days):
        dated = (
            (layout.instant_of(key, prefix), key)
            for key in s3io.list_keys(s3, bucket, layout.manifest_day_prefix(table, day.isoformat()))
        )
        for _end, key in sorted((end, key) for end, key in dated if end is not None and end > after):
            manifest = read_manifest(s3, bucket, key)
            if manifest is not None and manifest.window_start >= after:
                return manifest
        day += timedelta(days=1)
    return None
