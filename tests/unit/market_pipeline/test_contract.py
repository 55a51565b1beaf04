"""The tick contract's documentation and settings agree with schema.py; the simulator only writes
contract-valid ticks (live model, simulated clock, replays), so none of its ticks is ever dead-lettered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from market_pipeline.ingest.decode import DEFAULT_CONTRACT, DecodeMode, decode_batch
from market_pipeline.ingest.kafka_window import Chunk
from market_pipeline.schema import (
    EVENT_TIME_FLOOR,
    FIELD_RULES,
    MAX_EVENT_TIME_SKEW,
    MESSAGE_REASONS,
    TickContract,
    contract_table_markdown,
)
from market_pipeline.settings import PipelineSettings
from simulator.calendar import SessionClock, TradingCalendar, to_us
from simulator.encode import JsonEncoder
from simulator.model import MarketModel, ModelConfig
from simulator.replay import ReplaySource, load_bars
from tests.support import ROOT


def test_the_readme_contract_table_is_the_schemas():
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- contract-table:start -->\n(.*?)\n<!-- contract-table:end -->", readme, re.S)
    assert found, "README.md lost its contract table markers"
    assert found.group(1) == contract_table_markdown(), "regenerate the table with schema.contract_table_markdown()"
    for rule in (*MESSAGE_REASONS, *FIELD_RULES):
        assert f"`{rule}" in found.group(1), rule


def test_the_settings_state_the_schemas_defaults_and_parse_overrides(monkeypatch):
    monkeypatch.delenv("PIPELINE_EVENT_TIME_FLOOR", raising=False)
    monkeypatch.delenv("PIPELINE_MAX_EVENT_TIME_SKEW_SECONDS", raising=False)
    assert (
        TickContract.from_settings(PipelineSettings())
        == TickContract()
        == TickContract(EVENT_TIME_FLOOR, MAX_EVENT_TIME_SKEW)
    )
    monkeypatch.setenv("PIPELINE_EVENT_TIME_FLOOR", "1960-01-01")
    monkeypatch.setenv("PIPELINE_MAX_EVENT_TIME_SKEW_SECONDS", "30")
    contract = TickContract.from_settings(PipelineSettings())
    assert contract == TickContract(datetime(1960, 1, 1, tzinfo=UTC), timedelta(seconds=30))
    monkeypatch.setenv("PIPELINE_EVENT_TIME_FLOOR", "2001-02-03T04:05:06+01:00")
    assert PipelineSettings().event_time_floor == datetime(2001, 2, 3, 3, 5, 6, tzinfo=UTC)
    for bad in ("1990-01-01T00:00:00", "soon"):
        monkeypatch.setenv("PIPELINE_EVENT_TIME_FLOOR", bad)
        with pytest.raises(ValueError, match="PIPELINE_EVENT_TIME_FLOOR"):
            PipelineSettings()
    monkeypatch.setenv("PIPELINE_EVENT_TIME_FLOOR", "1990-01-01")
    monkeypatch.setenv("PIPELINE_MAX_EVENT_TIME_SKEW_SECONDS", "-1")
    with pytest.raises(ValueError, match="must not be negative"):
        PipelineSettings()


def decode_appended_at(values: list[bytes], appended: datetime, contract: TickContract = DEFAULT_CONTRACT) -> None:
    """Every value must become a row, in both decoders, when the broker appends it at `appended`."""
    n = len(values)
    chunk = Chunk(0, 0, n, values, None, np.arange(n, dtype=np.int64), np.full(n, int(appended.timestamp() * 1000)))
    for mode in DecodeMode:
        decoded = decode_batch(chunk, contract, mode)
        assert decoded.dlq.num_rows == 0, (mode, decoded.dlq.slice(0, 3).to_pylist())
        assert decoded.rows.num_rows == n


def test_the_live_model_writes_only_contract_valid_ticks():
    """Wall clock: event time is the emission time, so the broker appends right after it."""
    start = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    model = MarketModel(ModelConfig(seed=3), SessionClock(TradingCalendar(always_open=True), to_us(start)))
    encoder = JsonEncoder(model.symbols)
    for _ in range(3):
        block = model.next_block(20_000)
        last = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(block.event_us.max()))
        decode_appended_at(encoder.encode(block), last + timedelta(milliseconds=5))


def test_a_simulated_clock_started_in_the_past_writes_contract_valid_ticks():
    """--clock simulated --start 2001-...: old prices, far from the broker's clock, above the floor."""
    model = MarketModel(
        ModelConfig(seed=9, intensity=1000.0),
        SessionClock(TradingCalendar(), to_us(datetime(2001, 9, 10, 14, 30, tzinfo=UTC))),
    )
    decode_appended_at(JsonEncoder(model.symbols).encode(model.next_block(50_000)), datetime(2026, 11, 27, tzinfo=UTC))


def test_replays_write_contract_valid_ticks(tmp_path: Path):
    csv = tmp_path / "prices.csv"
    csv.write_text(
        "date,symbol,open,high,low,close,volume\n"
        "2001-03-05,BRK.B,50.0,51.5,49.2,51.0,1000\n"
        "2001-03-05,^GSPC,1234.0,1240.0,1230.5,1238.25,0\n"
        "2001-03-06,BRK.B,51.0,51.0,49.0,49.5,1500\n"
    )
    source = ReplaySource(load_bars(csv), seed=1, ticks_per_bar=200)
    encoder = JsonEncoder(source.symbols)
    values = [v for block in source.blocks() for v in encoder.encode(block)]
    decode_appended_at(values, datetime(2026, 11, 27, tzinfo=UTC))
    # The original project's dataset starts in 1965: replaying it needs a lower floor (a setting).
    old = tmp_path / "indexProcessed.csv"
    old.write_text(
        "Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD\n"
        "NYA,1965-12-31,528.690002,528.690002,528.690002,528.690002,528.690002,0,528.690002\n"
    )
    source = ReplaySource(load_bars(old), seed=1, ticks_per_bar=50)
    values = [v for block in source.blocks() for v in JsonEncoder(source.symbols).encode(block)]
    decode_appended_at(values, datetime(2026, 11, 27, tzinfo=UTC), TickContract(datetime(1960, 1, 1, tzinfo=UTC)))
