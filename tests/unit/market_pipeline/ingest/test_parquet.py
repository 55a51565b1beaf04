"""Event-time hour partitions, deterministic Parquet bytes, and parts written with their manifest entries."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow.parquet as pq

from market_pipeline.ingest.decode import decode_batch
from market_pipeline.ingest.kafka_window import Chunk
from market_pipeline.ingest.parquet import parquet_bytes, split_by_hour, write_dead_letters, write_rows
from market_pipeline.schema import RAW_TABLE_SCHEMA
from tests.ticks import encode, make_ticks


def rows_for(ticks: list[dict], first_offset: int = 0):
    n = len(ticks)
    return decode_batch(
        Chunk(
            partition=1,
            range_start=first_offset,
            range_end=first_offset + n,
            values=[encode(t) for t in ticks],
            keys=None,
            offsets=np.arange(first_offset, first_offset + n, dtype=np.int64),
            timestamps_ms=np.full(n, 1_795_651_200_000, dtype=np.int64),  # appended 2026-11-26: after every tick
        )
    ).rows


def test_split_by_hour_across_an_hour_boundary_keeps_offset_order():
    ticks = make_ticks(40, datetime(2026, 11, 25, 9, 59, 59, tzinfo=UTC), step=timedelta(milliseconds=50))
    parts = split_by_hour(rows_for(ticks, first_offset=10))
    assert [(dt, hour) for dt, hour, _ in parts] == [("2026-11-25", 9), ("2026-11-25", 10)]
    before, after = parts[0][2], parts[1][2]
    assert before.num_rows == 20 and after.num_rows == 20
    assert before["kafka_offset"].to_pylist() == list(range(10, 30))
    assert after["kafka_offset"].to_pylist() == list(range(30, 50))


def test_split_by_hour_with_late_ticks_interleaved():
    ticks = make_ticks(6, datetime(2026, 11, 25, 9, 59, 59, 900_000, tzinfo=UTC), step=timedelta(milliseconds=50))
    ticks[4]["event_time"] = "2026-11-25T09:59:59.990000Z"  # a late 09:59 tick after 10:00 ones
    parts = split_by_hour(rows_for(ticks))
    assert [(hour, p["kafka_offset"].to_pylist()) for _, hour, p in parts] == [(9, [0, 1, 4]), (10, [2, 3, 5])]


def test_split_by_hour_across_midnight():
    ticks = make_ticks(4, datetime(2026, 11, 25, 23, 59, 59, 500_000, tzinfo=UTC), step=timedelta(milliseconds=250))
    parts = split_by_hour(rows_for(ticks))
    assert [(dt, hour, p.num_rows) for dt, hour, p in parts] == [("2026-11-25", 23, 2), ("2026-11-26", 0, 2)]


def test_split_by_hour_uses_the_millisecond_athena_reads():
    # Athena reads a Glue timestamp as timestamp(3); Trino's Parquet reader rounds microseconds to
    # milliseconds half up. So 09:59:59.999499 reads as 09:59:59.999 (hour 9) and 09:59:59.999500 as
    # 10:00:00.000 (hour 10): the partition must agree with the value Athena shows.
    ticks = make_ticks(2, datetime(2026, 11, 25, 9, 59, 59, tzinfo=UTC))
    ticks[0]["event_time"] = "2026-11-25T09:59:59.999499Z"
    ticks[1]["event_time"] = "2026-11-25T09:59:59.999500Z"
    parts = split_by_hour(rows_for(ticks))
    assert [(hour, p["kafka_offset"].to_pylist()) for _, hour, p in parts] == [(9, [0]), (10, [1])]


def test_parquet_bytes_are_deterministic_and_carry_the_fixed_schema():
    ticks = make_ticks(2000, datetime(2026, 11, 25, 14, tzinfo=UTC))
    first = parquet_bytes(rows_for(ticks))
    second = parquet_bytes(rows_for(ticks))  # decoded again from scratch
    assert first == second
    back = pq.read_table(io.BytesIO(first))
    assert back.schema.equals(RAW_TABLE_SCHEMA, check_metadata=True)
    assert back.equals(rows_for(ticks))
    meta = pq.read_metadata(io.BytesIO(first))
    assert meta.row_group(0).column(0).compression == "ZSTD"
    # No wall-clock anywhere in the footer: only the schema and the writer's version.
    assert set(meta.metadata) == {b"ARROW:schema", b"stock_market.raw_schema_version"}
    assert meta.created_by.startswith("parquet-cpp-arrow")


def test_empty_table_has_no_hour_parts():
    assert split_by_hour(RAW_TABLE_SCHEMA.empty_table()) == []


class RecordingS3:
    def __init__(self) -> None:
        self.puts: dict[str, tuple[bytes, str]] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.puts[Key] = (Body, ContentType)


def test_each_part_written_returns_its_manifest_entry():
    ticks = make_ticks(40, datetime(2026, 11, 25, 9, 59, 59, tzinfo=UTC), step=timedelta(milliseconds=50))
    s3 = RecordingS3()
    entries = write_rows(s3, "lake", "ticks", "topic", 1, rows_for(ticks, first_offset=10))
    assert [(e.key, e.kind, e.first_offset, e.last_offset, e.rows, e.dt, e.hour) for e in entries] == [
        ("raw/ticks/dt=2026-11-25/hour=09/topic+1+0000000010+0000000029.parquet", "data", 10, 29, 20, "2026-11-25", 9),
        ("raw/ticks/dt=2026-11-25/hour=10/topic+1+0000000030+0000000049.parquet", "data", 30, 49, 20, "2026-11-25", 10),
    ]
    for entry in entries:
        body, content_type = s3.puts[entry.key]
        assert entry.bytes == len(body) and content_type == "application/vnd.apache.parquet"
        assert pq.read_table(io.BytesIO(body)).num_rows == entry.rows
    assert write_dead_letters(s3, "lake", "ticks", "topic", 3, decode_batch(_bad_chunk()).dlq)[0].key == (
        "dlq/ticks/dt=2025-11-25/topic+3+0000000005+0000000006.parquet"
    )


def _bad_chunk() -> Chunk:
    return Chunk(3, 5, 7, [b"nope", None], None, np.array([5, 6]), np.array([1_764_081_000_000] * 2))
