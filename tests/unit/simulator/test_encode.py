"""JSON encoding: every message decodes, validates against the pipeline's contract, and round-trips."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

from market_pipeline import schema
from simulator import encode
from simulator.calendar import NEW_YORK, SessionClock, TradingCalendar, to_us
from simulator.encode import JsonEncoder
from simulator.model import MarketModel, ModelConfig, TickBlock
from tests.ticks import tick_records


@pytest.fixture(scope="module")
def block() -> TickBlock:
    start = to_us(datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK))
    return MarketModel(ModelConfig(seed=3), SessionClock(TradingCalendar(), start)).next_block(20_000)


def test_schema_version_matches_the_pipeline_contract() -> None:
    assert encode.SCHEMA_VERSION == schema.SCHEMA_VERSION
    assert encode.SCHEMA_VERSION in schema.SUPPORTED_SCHEMA_VERSIONS


def test_messages_validate_against_message_schema(block: TickBlock, validate_messages) -> None:
    values = JsonEncoder(block.symbols).encode(block)
    assert len(values) == len(block)
    records = validate_messages(values)
    assert records == tick_records(block), "encoded JSON equals the tick's values exactly"
    assert {r["event_type"] for r in records} == {"trade", "quote"}


def test_keys_are_symbols(block: TickBlock) -> None:
    enc = JsonEncoder(block.symbols)
    keys = enc.keys(block)
    assert [json.loads(v)["symbol"].encode() for v in enc.encode(block)[:500]] == keys[:500]


def test_extreme_values_encode_exactly() -> None:
    n = 4
    block = TickBlock(
        symbols=("BRK.A", "X"),
        sym=np.array([0, 1, 0, 1], dtype=np.int16),
        event_us=np.array([0, 1, 253402300799999999, 1795600000123456], dtype=np.int64),
        is_trade=np.array([True, False, True, False]),
        seq=np.array([1, 2, 2**53, 10], dtype=np.int64),
        exch=np.zeros(n, dtype=np.int8),
        price=np.array([1, 10_000, 99_999_999_999_999, 12_345], dtype=np.int64),
        size=np.array([100, 0, 10**12, 0], dtype=np.int64),
        bid=np.array([1, 9_950, 99_999_999_999_999, 12_340], dtype=np.int64),
        bid_size=np.full(n, 100, dtype=np.int64),
        ask=np.array([2, 10_050, 100_000_000_000_000, 12_350], dtype=np.int64),
        ask_size=np.full(n, 200, dtype=np.int64),
        tau=np.zeros(n),
    )
    values = JsonEncoder(block.symbols).encode(block)
    recs = [json.loads(v) for v in values]
    assert recs == tick_records(block)
    assert recs[0]["price"] == 0.0001 and recs[1]["price"] == 1.0 and b'"price":1.00,' in values[1]
    assert recs[2]["event_time"] == "9999-12-31T23:59:59.999999Z"
    assert recs[0]["event_time"] == "1970-01-01T00:00:00.000000Z"
    assert recs[1]["size"] is None


def test_symbols_that_would_break_json_are_rejected() -> None:
    with pytest.raises(ValueError, match="verbatim"):
        JsonEncoder(['BAD"SYM'])
