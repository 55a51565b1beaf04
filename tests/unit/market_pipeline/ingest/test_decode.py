"""decode_batch: the fast path, every kind of bad message with its reason, and mixed batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from market_pipeline.ingest.decode import decode_batch
from market_pipeline.ingest.kafka_window import Chunk
from market_pipeline.schema import DLQ_SCHEMA, MAX_MESSAGE_BYTES, RAW_TABLE_SCHEMA
from tests.ticks import encode, make_ticks

START = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
GOOD = make_ticks(1, START)[0]


def batch(values: list[bytes | None], partition: int = 2, first_offset: int = 100) -> Chunk:
    n = len(values)
    return Chunk(
        partition=partition,
        range_start=first_offset,
        range_end=first_offset + n,
        values=values,
        offsets=np.arange(first_offset, first_offset + n, dtype=np.int64),
        timestamps_ms=np.arange(1_764_081_000_000, 1_764_081_000_000 + n, dtype=np.int64),
        keys=[f"k{i}".encode() for i in range(n)],
    )


def with_(**changes: object) -> bytes:
    return encode({**GOOD, **changes})


def without(field: str) -> bytes:
    return encode({k: v for k, v in GOOD.items() if k != field})


def test_good_batch_decodes_every_message_with_kafka_columns():
    ticks = make_ticks(500, START)
    decoded = decode_batch(batch([encode(t) for t in ticks]))
    rows = decoded.rows
    assert rows.schema.equals(RAW_TABLE_SCHEMA, check_metadata=True)
    assert rows.num_rows == 500 and decoded.dlq.num_rows == 0
    assert rows["kafka_offset"].to_pylist() == list(range(100, 600))
    assert set(rows["kafka_partition"].to_pylist()) == {2}
    assert rows["ingested_at"][0].value == 1_764_081_000_000
    first = rows.slice(0, 1).to_pylist()[0]
    assert first["symbol"] == ticks[0]["symbol"] and first["seq"] == ticks[0]["seq"]
    assert first["event_time"] == START
    assert rows["size"].to_pylist()[:3] == [t["size"] for t in ticks[:3]]


BAD_CASES = {
    "invalid_json": b'{"schema_version": 1,',
    "not_utf8": with_(symbol="AAPL").replace(b"AAPL", b"\xff\xfeAA"),
    "missing_field:seq": without("seq"),
    "null_field:price": with_(price=None),
    "wrong_type:price": with_(price="189.1"),
    "wrong_type:size": with_(size=True),
    "wrong_type:seq": with_(seq=1.5),
    "unexpected_field:venue": encode({**GOOD, "venue": "x"}),
    "invalid_timestamp:event_time": with_(event_time="yesterday"),
    "unsupported_schema_version": with_(schema_version=2),
    "unknown_event_type": with_(event_type="cancel"),
    "non_positive_price": with_(price=0.0),
    "non_finite_number": with_(price=float("nan")),
    "bid_above_ask": with_(bid=200.0, ask=199.0),
    "negative_size": with_(bid_size=-1),
    "trade_without_size": with_(event_type="trade", size=None),
    "empty_symbol": with_(symbol=""),
    "oversized": encode({**GOOD, "symbol": "X" * (MAX_MESSAGE_BYTES + 1)}),
    "null_value": None,
    "empty_message": b"",
    "not_an_object": b"[1, 2, 3]",
    "duplicate_field:seq": with_().replace(b'"seq":', b'"seq":1,"seq":', 1),
}


@pytest.mark.parametrize("reason", sorted(BAD_CASES))
def test_each_bad_message_kind_goes_to_the_dlq_with_its_reason(reason):
    decoded = decode_batch(batch([BAD_CASES[reason]]))
    assert decoded.rows.num_rows == 0
    assert decoded.dlq.to_pylist() == [
        {
            "raw": BAD_CASES[reason],
            "key": b"k0",
            "kafka_partition": 2,
            "kafka_offset": 100,
            "broker_timestamp": datetime.fromtimestamp(1_764_081_000, tz=UTC),
            "reason": reason,
        }
    ]


def test_two_objects_in_one_message_are_rejected_not_split():
    decoded = decode_batch(batch([encode(GOOD) + encode(GOOD), encode(GOOD)]))
    assert decoded.rows["kafka_offset"].to_pylist() == [101]
    assert decoded.dlq["reason"].to_pylist() == ["invalid_json"]


def test_mixed_batch_keeps_every_good_message_in_order():
    ticks = make_ticks(1000, START)
    values: list[bytes | None] = [encode(t) for t in ticks]
    bad_at = {3: BAD_CASES["invalid_json"], 250: None, 251: BAD_CASES["bid_above_ask"], 999: b"\x80"}
    for i, value in bad_at.items():
        values[i] = value
    decoded = decode_batch(batch(values, first_offset=0))
    assert decoded.rows.num_rows == 1000 - len(bad_at)
    assert decoded.rows["kafka_offset"].to_pylist() == [i for i in range(1000) if i not in bad_at]
    rows = zip(decoded.rows["symbol"].to_pylist(), decoded.rows["seq"].to_pylist(), strict=True)
    assert list(rows) == [(t["symbol"], t["seq"]) for i, t in enumerate(ticks) if i not in bad_at]
    assert decoded.dlq.schema.equals(DLQ_SCHEMA)
    assert decoded.dlq["kafka_offset"].to_pylist() == sorted(bad_at)
    assert decoded.dlq["reason"].to_pylist() == ["invalid_json", "null_value", "bid_above_ask", "not_utf8"]
    assert decoded.dlq["key"].to_pylist() == [f"k{i}".encode() for i in sorted(bad_at)]


def test_pretty_printed_json_with_line_breaks_is_accepted():
    pretty = json.dumps(GOOD, indent=2).encode()
    assert b"\n" in pretty
    decoded = decode_batch(batch([encode(GOOD), pretty.replace(b"\n", b"\r\n")]))
    assert decoded.rows.num_rows == 2 and decoded.dlq.num_rows == 0


def test_non_ascii_utf8_symbols_are_accepted():
    decoded = decode_batch(batch([with_(exchange="BÖRSE")]))
    assert decoded.rows["exchange"].to_pylist() == ["BÖRSE"]


def test_empty_batch():
    decoded = decode_batch(batch([]))
    assert decoded.rows.num_rows == 0 and decoded.rows.schema.equals(RAW_TABLE_SCHEMA)
    assert decoded.dlq.num_rows == 0


def test_decoding_is_deterministic():
    values = [encode(t) for t in make_ticks(300, START)] + [b"nope"]
    first, second = decode_batch(batch(values)), decode_batch(batch(values))
    assert first.rows.equals(second.rows) and first.dlq.equals(second.dlq)
    assert isinstance(first.rows, pa.Table)
