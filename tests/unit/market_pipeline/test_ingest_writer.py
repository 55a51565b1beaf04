"""Object keys, event-time hour partitions and deterministic Parquet bytes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow.parquet as pq
import pytest

from market_pipeline.decode import RawBatch, decode_batch
from market_pipeline.schema import RAW_TABLE_SCHEMA
from market_pipeline.writer import ObjectKey, data_key, dlq_key, parquet_bytes, parse_key, split_by_hour
from tests.ingest_ticks import encode, make_ticks


def rows_for(ticks: list[dict], first_offset: int = 0):
    n = len(ticks)
    return decode_batch(
        RawBatch(
            partition=1,
            values=[encode(t) for t in ticks],
            offsets=np.arange(first_offset, first_offset + n, dtype=np.int64),
            timestamps_ms=np.full(n, 1_764_081_000_000, dtype=np.int64),
        )
    ).rows


def test_data_key_layout_and_round_trip():
    key = data_key("ticks", "stock_market_data", 2, 1500, 1999, "2026-11-25", 9)
    assert key == "raw/ticks/dt=2026-11-25/hour=09/stock_market_data+2+0000001500+0000001999.parquet"
    assert parse_key(key) == ObjectKey("raw", "ticks", "2026-11-25", 9, "stock_market_data", 2, 1500, 1999)


def test_dlq_key_layout_and_round_trip():
    key = dlq_key("ticks", "stock_market_data", 0, 7, 7, "2026-11-25")
    assert key == "dlq/ticks/dt=2026-11-25/stock_market_data+0+0000000007+0000000007.parquet"
    assert parse_key(key) == ObjectKey("dlq", "ticks", "2026-11-25", None, "stock_market_data", 0, 7, 7)


def test_offsets_wider_than_the_padding_still_round_trip():
    key = data_key("ticks", "t", 0, 12_345_678_901, 12_345_678_999, "2026-11-25", 0)
    parts = parse_key(key)
    assert parts is not None and parts.first_offset == 12_345_678_901


def test_other_keys_are_not_parsed_and_bad_topics_are_refused():
    assert parse_key("_manifests/ticks/2026-11-25T10:05:00Z.json") is None
    with pytest.raises(ValueError):
        data_key("ticks", "a+b", 0, 1, 2, "2026-11-25", 0)


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
