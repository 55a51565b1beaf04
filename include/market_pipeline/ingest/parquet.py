"""Deterministic Parquet parts on S3: bytes from data only, keys from the layout, one manifest entry each.

Why: exactly-once in S3 comes from overwriting the same key with the same bytes on every retry, clear
or backfill (the Kafka Connect S3 sink model). Keys come from :mod:`market_pipeline.layout` (topic,
partition, offsets, event-time partition); the Parquet bytes carry no timestamps either, so a rerun
yields identical objects (and ETags).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from market_pipeline import layout, s3io
from market_pipeline.manifest import ObjectEntry

_MS_PER_HOUR = 3_600_000
PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"
# Low-cardinality strings only: dictionary-encoding prices and offsets costs CPU and bytes.
DICTIONARY_COLUMNS = ["event_type", "symbol", "exchange", "reason"]


def write_rows(s3: Any, bucket: str, table: str, topic: str, partition: int, rows: pa.Table) -> list[ObjectEntry]:
    """One data object per event-time hour of `rows` (one partition's decoded chunk)."""
    return [
        write_part(
            s3,
            bucket,
            part,
            "data",
            partition,
            dt,
            hour,
            partial(layout.data_key, table, topic, partition, dt=dt, hour=hour),
        )
        for dt, hour, part in split_by_hour(rows)
    ]


def write_dead_letters(
    s3: Any, bucket: str, table: str, topic: str, partition: int, dlq: pa.Table
) -> list[ObjectEntry]:
    """One dead-letter object for a chunk's bad messages, in the day of the first one's broker time."""
    if dlq.num_rows == 0:
        return []
    first_ms = int(dlq["broker_timestamp"][0].value)
    dt, _ = layout.dt_hour(datetime.fromtimestamp(first_ms / 1000, tz=UTC))
    key_for = partial(layout.dlq_key, table, topic, partition, dt=dt)
    return [write_part(s3, bucket, dlq, "dlq", partition, dt, None, key_for)]


def write_part(
    s3: Any,
    bucket: str,
    part: pa.Table,
    kind: str,
    partition: int,
    dt: str,
    hour: int | None,
    key_for: Callable[[int, int], str],
) -> ObjectEntry:
    """Write one non-empty part (rows in offset order) and return its manifest entry."""
    first, last = offsets_range(part)
    key = key_for(first, last)
    body = parquet_bytes(part)
    s3io.put_bytes(s3, bucket, key, body, PARQUET_CONTENT_TYPE)
    return ObjectEntry(key, kind, partition, first, last, part.num_rows, len(body), dt, hour)


def split_by_hour(rows: pa.Table) -> list[tuple[str, int, pa.Table]]:
    """Split rows by the UTC hour of their event_time: [(dt, hour, rows)], hours ascending.

    The hour is that of the event time as Athena reads it: a Glue `timestamp` is timestamp(3), and
    Trino's Parquet reader rounds microseconds to milliseconds half up. Partitioning on the raw
    microseconds would put 10:59:59.9996 under hour=10 while Athena reads it as 11:00:00.000.
    Row order (Kafka offset order) is kept inside each part.
    """
    if rows.num_rows == 0:
        return []
    micros = rows["event_time"].combine_chunks().cast(pa.int64()).to_numpy()
    hours = ((micros + 500) // 1000) // _MS_PER_HOUR
    first, last = int(hours.min()), int(hours.max())
    if first == last:
        return [(*layout.dt_hour_of_epoch_hour(first), rows)]
    parts = []
    if (np.diff(hours) >= 0).all():  # the usual case: event time ascends with the offset, so slice (no copy)
        bounds = np.flatnonzero(np.diff(hours)) + 1
        for lo, hi in itertools.pairwise([0, *bounds.tolist(), len(hours)]):
            parts.append((*layout.dt_hour_of_epoch_hour(int(hours[lo])), rows.slice(lo, hi - lo)))
        return parts
    for hour in np.unique(hours):
        part = rows.filter(pa.array(hours == hour))
        parts.append((*layout.dt_hour_of_epoch_hour(int(hour)), part))
    return parts


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
