"""What the lake covers: gaps between ingest windows, and objects in raw/ or dlq/ that no manifest lists.

Why: a window that never completes leaves no manifest, while later windows commit past it, so the
consumer lag looks healthy and nothing fails loudly. Two things make it visible:

- **A gap** is a span of broker time between two manifests that no manifest covers: an interval whose
  manifest is missing while a later interval has one. The manifests on either side give its exact
  offsets per partition, so a gap also says how many Kafka messages were never landed.
- **An unlisted object** is a data or dead-letter object whose offsets belong to a window (or a gap)
  but that no manifest lists: what an attempt that died half-written leaves, or a stale object from
  another chunking. Athena reads every object under raw/, so its rows would be counted as data that
  no window vouches for; the Market pipeline page and the validation report name each one.

Objects are found by listing the Hive partitions where they can be: dead letters by the day of their
broker time (exact); data by the hour of their event time: the hours from an hour before the span's
broker time (``EVENT_TIME_LOOKBACK``) to its end, plus every hour the neighbouring windows wrote to (so
a replay of old prices, whose event hours are far from broker time, is searched where its neighbours
landed). Everything here only reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from market_pipeline import layout, s3io
from market_pipeline.manifest import (
    Manifest,
    list_manifests,
    manifest_keys,
    next_manifest,
    previous_manifest,
    read_manifest,
)

EVENT_TIME_LOOKBACK = timedelta(hours=1)
MAX_HOURS_SEARCHED = 48  # a longer gap is searched in its last 48 hours (the listing cost is per hour)
NO_MANIFEST = "no manifest: ingest did not complete"


@dataclass(frozen=True)
class Gap:
    """Broker time [start, end) between two windows that no manifest covers."""

    start: datetime
    end: datetime
    before: str  # the manifest key of the window before
    after: str  # ... and after
    missing_offsets: Mapping[int, tuple[int, int]]  # per partition: [first, end) offsets never landed
    unlisted: tuple[str, ...] = ()

    @property
    def messages(self) -> int:
        return sum(end - first for first, end in self.missing_offsets.values())

    def to_dict(self, interval: timedelta | None = None, max_keys: int = 20) -> dict[str, Any]:
        return {
            "start": layout.format_instant(self.start),
            "end": layout.format_instant(self.end),
            "intervals": round((self.end - self.start) / interval) if interval else None,
            "messages_missing": self.messages,
            "missing_offsets": {str(p): list(r) for p, r in sorted(self.missing_offsets.items())},
            "before": self.before,
            "after": self.after,
            "unlisted_objects": len(self.unlisted),
            "unlisted_keys": list(self.unlisted[:max_keys]),
        }


def find_gaps(
    s3: Any, bucket: str, table: str, *, since: datetime | None = None, interval: timedelta | None = None
) -> list[Gap]:
    """Gaps between the manifests of windows ending after `since`, oldest first, with unlisted objects.

    With the interval length, only consecutive manifests further apart than one interval are read.
    """
    ends = [(end, key) for end, key in manifest_keys(s3, bucket, table) if since is None or end > since]
    gaps = []
    cache: dict[str, Manifest | None] = {}

    def manifest(key: str) -> Manifest | None:
        if key not in cache:
            cache[key] = read_manifest(s3, bucket, key)
        return cache[key]

    for (end_1, key_1), (end_2, key_2) in itertools.pairwise(ends):
        if interval is not None and end_2 - end_1 <= interval:
            continue
        before, after = manifest(key_1), manifest(key_2)
        if before is None or after is None or after.window_start <= before.window_end:
            continue
        missing = _offsets_between(before, after)
        unlisted = unlisted_objects(
            s3, bucket, table, before.topic, missing, before.window_end, after.window_start, near=[before, after]
        )
        gaps.append(Gap(before.window_end, after.window_start, key_1, key_2, missing, tuple(unlisted)))
    return gaps


def _offsets_between(before: Manifest, after: Manifest | None) -> dict[int, tuple[int, int]]:
    """Per partition, the offsets after `before`'s window and before `after`'s (open-ended without it)."""
    starts = {p.partition: p.start_offset for p in after.partitions} if after is not None else {}
    return {p.partition: (p.end_offset, starts.get(p.partition, _OPEN_END)) for p in before.partitions}


_OPEN_END = 2**63 - 1


def unlisted_objects(
    s3: Any,
    bucket: str,
    table: str,
    topic: str,
    offsets: Mapping[int, tuple[int, int]],
    span_start: datetime,
    span_end: datetime,
    listed: Iterable[str] = (),
    near: Iterable[Manifest | None] = (),
) -> list[str]:
    """Data and dead-letter keys of `topic` whose offsets lie inside `offsets` (per partition [first,
    end)) and that are not in `listed`, searched in the partitions where the span's objects can be
    (including every partition the manifests `near` it wrote to)."""
    known = set(listed)
    found = []
    prefixes = set(_prefixes(table, span_start, span_end))
    for manifest in near:
        if manifest is not None:
            prefixes.update(o.key.rsplit("/", 1)[0] + "/" for o in manifest.objects)
    for prefix in sorted(prefixes):
        for key in s3io.list_keys(s3, bucket, prefix):
            parts = layout.parse_key(key)
            if parts is None or key in known or parts.topic != topic or parts.table != table:
                continue
            bounds = offsets.get(parts.partition)
            if bounds is not None and bounds[0] <= parts.first_offset and parts.last_offset < bounds[1]:
                found.append(key)
    return sorted(set(found))


def _prefixes(table: str, start: datetime, end: datetime) -> list[str]:
    """Hour prefixes of raw/ from start - lookback to end, and day prefixes of dlq/ from start to end
    (at most the last MAX_HOURS_SEARCHED hours of a long span)."""
    start = max(start, end - timedelta(hours=MAX_HOURS_SEARCHED))
    last_hour = end.replace(minute=0, second=0, microsecond=0)
    hour = (start - EVENT_TIME_LOOKBACK).replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour <= last_hour:
        prefixes.append(layout.raw_hour_prefix(table, *layout.dt_hour(hour)))
        hour += timedelta(hours=1)
    day = start.date()
    while day <= end.date():
        prefixes.append(layout.dlq_day_prefix(table, day.isoformat()))
        day += timedelta(days=1)
    return prefixes


@dataclass(frozen=True)
class IntervalCoverage:
    """Whether an interval's ingest completed, and what in its offsets no manifest lists."""

    manifests: int
    unlisted: tuple[str, ...]
    later_manifest: str | None = None  # set when the interval has no manifest but a later window has one
    offsets: Mapping[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.manifests > 0

    @property
    def message(self) -> str:
        if self.complete:
            return f"{self.manifests} manifest(s)"
        if self.later_manifest:
            return f"{NO_MANIFEST}; a later window has one ({self.later_manifest}), so this interval is a gap"
        return f"{NO_MANIFEST} (no later window has one yet)"

    def to_dict(self, max_keys: int = 50) -> dict[str, Any]:
        return {
            "manifests": self.manifests,
            "complete": self.complete,
            "message": self.message,
            "later_manifest": self.later_manifest,
            "unlisted_objects": len(self.unlisted),
            "unlisted_keys": list(self.unlisted[:max_keys]),
        }


def interval_coverage(s3: Any, bucket: str, table: str, start: datetime, end: datetime) -> IntervalCoverage:
    """The interval [start, end) as the catalog's report states it.

    With manifests: the objects in the offsets they cover that they do not list (duplicates Athena would
    count). Without: the offsets between the neighbouring windows' manifests and what lies there (a
    window that died half-written).
    """
    manifests = list_manifests(s3, bucket, table, start, end)
    if manifests:
        offsets: dict[int, tuple[int, int]] = {}
        for m in manifests:
            for p in m.partitions:
                first, last = offsets.get(p.partition, (p.start_offset, p.end_offset))
                offsets[p.partition] = (min(first, p.start_offset), max(last, p.end_offset))
        listed = {o.key for m in manifests for o in m.objects}
        unlisted = unlisted_objects(s3, bucket, table, manifests[0].topic, offsets, start, end, listed, manifests)
        return IntervalCoverage(len(manifests), tuple(unlisted), offsets=offsets)
    before = previous_manifest(s3, bucket, table, start)
    after = next_manifest(s3, bucket, table, end)
    if before is None:
        return IntervalCoverage(0, (), later_manifest=after.key if after else None)
    offsets = _offsets_between(before, after)
    unlisted = unlisted_objects(s3, bucket, table, before.topic, offsets, start, end, near=[before, after])
    return IntervalCoverage(0, tuple(unlisted), later_manifest=after.key if after else None, offsets=offsets)


def open_attempts(s3: Any, bucket: str, table: str) -> list[dict[str, Any]]:
    """Ingest attempts that have not completed (see market_pipeline.ingest.attempts), oldest window first:
    a window being ingested now, or one whose attempt failed or died (state "running" long after its
    window closed)."""
    prefix = layout.attempt_prefix(table)
    found = []
    for key in sorted(s3io.list_keys(s3, bucket, prefix)):
        window_end, _, scope = key[len(prefix) :].rpartition("/")
        try:
            marker = s3io.get_json(s3, bucket, key)
        except ValueError:
            marker = {"state": "unreadable"}
        if isinstance(marker, dict):
            found.append({"window_end": window_end, "scope": scope.removesuffix(".json"), "key": key, **marker})
    return found
