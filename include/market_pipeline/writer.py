"""Deterministic Parquet objects on S3: keys from data only, bytes from data only.

Why: exactly-once in S3 comes from overwriting the same key with the same bytes on every retry, clear
or backfill (the Kafka Connect S3 sink model). A key is derived from the topic, the Kafka partition,
the offsets of the rows it holds and the event-time partition; never from wall-clock time or run ids.
The Parquet bytes carry no timestamps either, so a rerun yields identical objects (and ETags).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

_US_PER_HOUR = 3_600_000_000
OFFSET_PAD = 10  # like Kafka Connect's filename.offset.zero.pad.width: keys sort by offset
PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"
# Low-cardinality strings only: dictionary-encoding prices and offsets costs CPU and bytes.
DICTIONARY_COLUMNS = ["event_type", "symbol", "exchange", "reason"]

_KEY_RE = re.compile(
    r"^(?P<kind>raw|dlq)/(?P<table>[^/]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/(?:hour=(?P<hour>\d{2})/)?"
    r"(?P<topic>[^/+]+)\+(?P<partition>\d+)\+(?P<first>\d+)\+(?P<last>\d+)\.parquet$"
)


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
    return f"raw/{table}/dt={dt}/hour={hour:02d}/{_file_name(topic, partition, first, last)}"


def dlq_key(table: str, topic: str, partition: int, first: int, last: int, dt: str) -> str:
    """dlq/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first offset>+<last offset>.parquet"""
    return f"dlq/{table}/dt={dt}/{_file_name(topic, partition, first, last)}"


def _file_name(topic: str, partition: int, first: int, last: int) -> str:
    if "+" in topic or "/" in topic:
        raise ValueError(f"topic name {topic!r} cannot be used in an object key")
    return f"{topic}+{partition}+{first:0{OFFSET_PAD}d}+{last:0{OFFSET_PAD}d}.parquet"


def parse_key(key: str) -> ObjectKey | None:
    """The parts of a key written by this module, or None for any other key."""
    match = _KEY_RE.match(key)
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


def split_by_hour(rows: pa.Table) -> list[tuple[str, int, pa.Table]]:
    """Split rows by the UTC hour of their event_time: [(dt, hour, rows)], hours ascending.

    Row order (Kafka offset order) is kept inside each part.
    """
    if rows.num_rows == 0:
        return []
    micros = rows["event_time"].combine_chunks().cast(pa.int64()).to_numpy()
    hours = micros // _US_PER_HOUR
    first, last = int(hours.min()), int(hours.max())
    if first == last:
        return [(*_dt_hour(first), rows)]
    parts = []
    if (np.diff(hours) >= 0).all():  # the usual case: event time ascends with the offset, so slice (no copy)
        bounds = np.flatnonzero(np.diff(hours)) + 1
        for lo, hi in itertools.pairwise([0, *bounds.tolist(), len(hours)]):
            parts.append((*_dt_hour(int(hours[lo])), rows.slice(lo, hi - lo)))
        return parts
    for hour in np.unique(hours):
        part = rows.filter(pa.array(hours == hour))
        parts.append((*_dt_hour(int(hour)), part))
    return parts


def _dt_hour(epoch_hour: int) -> tuple[str, int]:
    moment = datetime.fromtimestamp(epoch_hour * 3600, tz=UTC)
    return moment.strftime("%Y-%m-%d"), moment.hour


def parquet_bytes(table: pa.Table, *, row_group_size: int = 131_072, compression_level: int = 3) -> bytes:
    """Serialise a table to Parquet deterministically (zstd; no wall-clock metadata is written)."""
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=compression_level,
        row_group_size=row_group_size,
        use_dictionary=DICTIONARY_COLUMNS,
        write_statistics=True,
    )
    return sink.getvalue().to_pybytes()


def offsets_range(table: pa.Table) -> tuple[int, int]:
    """First and last kafka_offset of a non-empty table (rows are in offset order)."""
    offsets = table["kafka_offset"]
    bounds = pc.min_max(offsets)
    return int(bounds["min"].as_py()), int(bounds["max"].as_py())


def put_object(s3: object, bucket: str, key: str, body: bytes) -> None:
    """Overwrite `key` with `body` (plain PutObject: idempotent by construction)."""
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=PARQUET_CONTENT_TYPE)  # type: ignore[attr-defined]


def list_keys(s3: object, bucket: str, prefix: str) -> list[str]:
    """All keys under `prefix` (paginated ListObjectsV2)."""
    keys: list[str] = []
    token: str | None = None
    while True:
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)  # type: ignore[attr-defined]
        keys.extend(item["Key"] for item in page.get("Contents", []))
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]
