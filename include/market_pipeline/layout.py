"""THE S3 contract: every prefix and key the pipeline writes or reads, and the instant format in keys.

Why one module: ingest writes raw/, dlq/ and _manifests/; the catalog reads _manifests/, writes
_reports/ and curated/; Athena writes athena-results/; the crawler reads raw/; the UI reads manifests and
reports. If each built its own strings, a rename would break a reader silently. Like the Kafka Connect
S3 sink, which keeps its naming in two methods (``fileKey``, ``fileKeyToCommit``) that everything else
asks, every key is built (and parsed) here and nowhere else; a test fails on a prefix literal elsewhere.

::

    raw/<table>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first offset>+<last offset>.parquet
    dlq/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first offset>+<last offset>.parquet
    _manifests/<table>/<window end>.json          written last: the window is complete
    _attempts/<table>/<window end>/<scope>.json   an ingest attempt in progress (deleted when it completes)
    _reports/<table>/<interval end>.json          the catalog's validation report
    curated/<bars table>/dt=../hour=../ingest_window=HHMM/...   written by Athena (INSERT INTO)
    athena-results/                               Athena's output location (the workgroup's)

Keys come only from data (topic, partition, offsets, the tick's event hour, the window end), never
from wall-clock time or run ids, so a retry or a backfill rewrites the same keys. Instants in keys and
documents are ISO-8601 UTC with a ``Z`` (:func:`format_instant`); the crawler targets ``raw/`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

RAW = "raw"
DLQ = "dlq"
MANIFESTS = "_manifests"
ATTEMPTS = "_attempts"
REPORTS = "_reports"
CURATED = "curated"
ATHENA_RESULTS = "athena-results"

OFFSET_PAD = 10  # like Kafka Connect's filename.offset.zero.pad.width: keys sort by offset

_OBJECT_KEY = re.compile(
    rf"^(?P<kind>{RAW}|{DLQ})/(?P<table>[^/]+)/dt=(?P<dt>\d{{4}}-\d{{2}}-\d{{2}})/(?:hour=(?P<hour>\d{{2}})/)?"
    r"(?P<topic>[^/+]+)\+(?P<partition>\d+)\+(?P<first>\d+)\+(?P<last>\d+)\.parquet$"
)


# -- instants ---------------------------------------------------------------------------------------


def format_instant(moment: datetime) -> str:
    """ISO-8601 UTC with a Z; milliseconds only when not whole seconds (e.g. 2026-11-25T10:05:00Z)."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def parse_instant(text: str) -> datetime:
    """An instant as keys, reports and Athena print it, as an aware UTC datetime.

    Accepts ``2026-11-25T10:05:00Z`` (:func:`format_instant`), Athena's ``2026-11-25 10:05:00.000`` with
    or without `` UTC`` or an offset; a naive text is UTC. Raises ValueError otherwise.
    """
    cleaned = text.strip().removesuffix(" UTC")
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def dt_hour(moment: datetime) -> tuple[str, int]:
    """The Hive partition (dt, hour) of an instant: its UTC date and hour."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d"), moment.hour


def dt_hour_of_epoch_hour(epoch_hour: int) -> tuple[str, int]:
    """(dt, hour) of an hour counted since the epoch (what the Parquet writer groups by)."""
    return dt_hour(datetime.fromtimestamp(epoch_hour * 3600, tz=UTC))


def ingest_window_name(interval_start: datetime) -> str:
    """The curated partition value of an interval: HHMM of its start (UTC)."""
    return interval_start.astimezone(UTC).strftime("%H%M")


# -- prefixes ---------------------------------------------------------------------------------------


def raw_prefix(table: str) -> str:
    return f"{RAW}/{table}/"


def dlq_prefix(table: str) -> str:
    return f"{DLQ}/{table}/"


def dlq_day_prefix(table: str, dt: str) -> str:
    return f"{dlq_prefix(table)}dt={dt}/"


def manifest_prefix(table: str) -> str:
    return f"{MANIFESTS}/{table}/"


def manifest_day_prefix(table: str, day: str) -> str:
    """The manifests of windows ending on `day` (YYYY-MM-DD): manifest names start with the end instant."""
    return f"{manifest_prefix(table)}{day}"


def attempt_prefix(table: str) -> str:
    return f"{ATTEMPTS}/{table}/"


def raw_hour_prefix(table: str, dt: str, hour: int) -> str:
    """The data objects of one Hive partition (dt, hour)."""
    return f"{raw_prefix(table)}dt={dt}/hour={hour:02d}/"


def report_prefix(table: str) -> str:
    return f"{REPORTS}/{table}/"


def curated_prefix(bars_table: str) -> str:
    return f"{CURATED}/{bars_table}/"


def bars_partition_prefix(bars_table: str, interval_start: datetime) -> str:
    """Where Athena writes one interval's bars (cleared before a rebuild, so a rerun replaces them)."""
    dt, hour = dt_hour(interval_start)
    return f"{curated_prefix(bars_table)}dt={dt}/hour={hour:02d}/ingest_window={ingest_window_name(interval_start)}/"


def s3_uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}"


def athena_output(bucket: str) -> str:
    """The workgroup's (enforced) result location."""
    return s3_uri(bucket, f"{ATHENA_RESULTS}/")


def crawler_target(bucket: str) -> str:
    """The crawler reads raw/ only: dead letters, manifests, reports and results are not tables."""
    return s3_uri(bucket, f"{RAW}/")


# -- keys -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectKey:
    """The parts of a data or dead-letter object key."""

    kind: str  # "raw" or "dlq"
    table: str
    dt: str
    hour: int | None
    topic: str
    partition: int
    first_offset: int
    last_offset: int


def data_key(table: str, topic: str, partition: int, first: int, last: int, dt: str, hour: int) -> str:
    """raw/<table>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first offset>+<last offset>.parquet"""
    return f"{raw_hour_prefix(table, dt, hour)}{_file_name(topic, partition, first, last)}"


def dlq_key(table: str, topic: str, partition: int, first: int, last: int, dt: str) -> str:
    """dlq/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first offset>+<last offset>.parquet"""
    return f"{dlq_day_prefix(table, dt)}{_file_name(topic, partition, first, last)}"


def _file_name(topic: str, partition: int, first: int, last: int) -> str:
    if "+" in topic or "/" in topic:
        raise ValueError(f"topic name {topic!r} cannot be used in an object key")
    return f"{topic}+{partition}+{first:0{OFFSET_PAD}d}+{last:0{OFFSET_PAD}d}.parquet"


def parse_key(key: str) -> ObjectKey | None:
    """The parts of a data or dead-letter key, or None for any other key."""
    match = _OBJECT_KEY.match(key)
    if match is None:
        return None
    hour = match["hour"]
    return ObjectKey(
        kind=match["kind"],
        table=match["table"],
        dt=match["dt"],
        hour=int(hour) if hour is not None else None,
        topic=match["topic"],
        partition=int(match["partition"]),
        first_offset=int(match["first"]),
        last_offset=int(match["last"]),
    )


def manifest_key(table: str, window_end: datetime) -> str:
    return f"{manifest_prefix(table)}{format_instant(window_end)}.json"


def attempt_key(table: str, window_end: datetime, scope: str = "window") -> str:
    """The marker of an ingest attempt on the window ending at `window_end` (scope: the whole window, or
    one unit of it, e.g. "p0" for partition 0 when partitions are ingested by separate tasks)."""
    if not scope or "/" in scope:
        raise ValueError(f"attempt scope {scope!r} must be a non-empty name without '/'")
    return f"{attempt_prefix(table)}{format_instant(window_end)}/{scope}.json"


def report_key(table: str, interval_end: datetime) -> str:
    return f"{report_prefix(table)}{format_instant(interval_end)}.json"


def instant_of(key: str, prefix: str) -> datetime | None:
    """The instant a manifest or report key is named after, or None for a stray name under `prefix`."""
    if not key.startswith(prefix) or not key.endswith(".json"):
        return None
    try:
        return parse_instant(key[len(prefix) : -len(".json")])
    except ValueError:
        return None
