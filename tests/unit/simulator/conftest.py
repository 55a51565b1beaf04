"""Fixtures for the simulator's unit tests: one long simulated run shared by the statistics tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import pytest

from simulator.calendar import NEW_YORK, SessionClock, TradingCalendar, to_us
from simulator.model import MarketModel, ModelConfig, TickBlock

LONG_RUN_DAYS = 8
LONG_RUN_INTENSITY = 20.0  # ticks per trading second, all 20 symbols


@dataclass
class LongRun:
    model: MarketModel
    ticks: TickBlock
    calendar: TradingCalendar


@pytest.fixture(scope="session")
def long_run() -> LongRun:
    """Eight trading days from Friday 2026-11-20 (spans a weekend and Thanksgiving)."""
    calendar = TradingCalendar()
    start = to_us(datetime(2026, 11, 20, 9, 30, tzinfo=NEW_YORK))
    model = MarketModel(ModelConfig(seed=7, intensity=LONG_RUN_INTENSITY), SessionClock(calendar, start))
    n = int(LONG_RUN_DAYS * 23_400 * LONG_RUN_INTENSITY)
    blocks = [model.next_block(65_536) for _ in range(n // 65_536 + 1)]
    return LongRun(model, TickBlock.concat(blocks), calendar)


@pytest.fixture(scope="session")
def validate_messages():
    """The strict message validator below, as a fixture (test modules cannot import conftest)."""
    return _validate_messages


def _validate_messages(values: list[bytes]) -> list[dict]:
    """Decode and check messages against market_pipeline.schema (the contract), strictly.

    Arrow's JSON reader with the explicit schema rejects unknown fields and unparseable values; the
    Python checks catch what it would coerce (ints for floats, missing non-nullable fields).
    """
    import pyarrow.json as pj

    from market_pipeline.schema import EVENT_TYPES, MAX_MESSAGE_BYTES, MESSAGE_SCHEMA, SCHEMA_VERSION

    names = MESSAGE_SCHEMA.names
    records = []
    for raw in values:
        assert len(raw) < MAX_MESSAGE_BYTES, f"message of {len(raw)} bytes >= {MAX_MESSAGE_BYTES}"
        rec = json.loads(raw)
        assert list(rec) == names, f"fields {list(rec)} != {names}"
        assert rec["schema_version"] == SCHEMA_VERSION
        assert rec["event_type"] in EVENT_TYPES
        for f in MESSAGE_SCHEMA:
            value = rec[f.name]
            if value is None:
                assert f.nullable, f"{f.name} is null"
                continue
            t = f.type
            if str(t) == "double":
                assert isinstance(value, float), f"{f.name}={value!r} is not a JSON float"
            elif str(t).startswith("int"):
                assert isinstance(value, int) and not isinstance(value, bool), f"{f.name}={value!r}"
            else:
                assert isinstance(value, str), f"{f.name}={value!r}"
        assert (rec["size"] is None) == (rec["event_type"] == "quote")
        assert rec["event_time"].endswith("Z") and len(rec["event_time"]) == 27
        records.append(rec)
    table = pj.read_json(
        BytesIO(b"\n".join(values)),
        parse_options=pj.ParseOptions(explicit_schema=MESSAGE_SCHEMA, unexpected_field_behavior="error"),
    )
    assert table.num_rows == len(values)
    assert table.schema.equals(MESSAGE_SCHEMA.remove_metadata(), check_metadata=False) or [
        (a.name, a.type) for a in table.schema
    ] == [(a.name, a.type) for a in MESSAGE_SCHEMA]
    return records
