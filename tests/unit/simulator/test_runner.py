"""The run loop's pieces that need no broker: signal handling and the feed."""

from __future__ import annotations

import os
import signal
import threading
from datetime import datetime

import numpy as np
import pytest

from simulator.calendar import NEW_YORK, SessionClock, TradingCalendar, to_us
from simulator.config import SimulatorConfig
from simulator.model import MarketModel, ModelConfig
from simulator.pacing import Feed
from simulator.runner import _stop_on_signals, make_source


def test_sigterm_sets_the_stop_event_and_chains_airflows_handler(monkeypatch) -> None:
    """Airflow's task runner handles SIGTERM by calling on_kill; ours must set the event and chain."""
    from simulator import runner

    calls: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        stop = threading.Event()
        with _stop_on_signals(stop, enabled=True):
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.wait(5)
            assert calls == [signal.SIGTERM]
            os.kill(os.getpid(), signal.SIGTERM)  # the same stop, delivered twice (group + supervisor)
            assert calls == [signal.SIGTERM], "a duplicate neither aborts nor reaches Airflow's handler again"
            monkeypatch.setattr(runner, "DUPLICATE_SIGNAL_WINDOW_S", 0.0)
            with pytest.raises(KeyboardInterrupt, match="second SIGTERM"):
                os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is not None and calls == [signal.SIGTERM]
        os.kill(os.getpid(), signal.SIGTERM)  # the previous handler is back
        assert calls == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_feed_counts_by_trading_time() -> None:
    start = to_us(datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK))
    model = MarketModel(ModelConfig(intensity=100.0), SessionClock(TradingCalendar(), start))
    feed = Feed(model.blocks(1000))
    first = feed.next_tau()
    assert first is not None and 0 < first < 1
    n = feed.count_until(5.0)
    assert 400 < n < 600  # ~100 ticks per simulated second
    block = feed.take(n)
    assert block is not None and np.all(block.tau <= 5.0) and feed.next_tau() > 5.0


def test_wall_clock_source_starts_at_the_next_open_when_closed() -> None:
    saturday = to_us(datetime(2026, 11, 28, 12, 0, tzinfo=NEW_YORK))
    symbols, blocks = make_source(SimulatorConfig(universe="AAPL", rate=10), now_us=saturday)
    first = next(blocks)
    assert symbols == ("AAPL",)
    assert first.event_us[0] >= to_us(datetime(2026, 11, 30, 9, 30, tzinfo=NEW_YORK))


def test_start_prices_continue_the_market_where_it_left_off() -> None:
    """A run given start prices trades around them, not around the universe's reference prices."""
    config = SimulatorConfig(universe="AAPL,MSFT", rate=10, clock="simulated", start_prices={"AAPL": 400.0})
    symbols, blocks = make_source(config)
    block = next(blocks)
    first_price = {s: block.price[block.sym == i][0] / 10_000 for i, s in enumerate(symbols)}
    assert abs(first_price["AAPL"] - 400.0) < 4.0, first_price
    assert abs(first_price["MSFT"] - 425.0) < 5.0, "a symbol without a start price keeps the reference"


def test_start_seqs_number_each_symbols_ticks_on() -> None:
    """A run given start sequence numbers goes on from them; a symbol without one starts at 1."""
    config = SimulatorConfig(universe="AAPL,MSFT", rate=10, clock="simulated", start_seqs={"AAPL": 41})
    symbols, blocks = make_source(config)
    block = next(blocks)
    for i, symbol in enumerate(symbols):
        seqs = block.seq[block.sym == i].tolist()
        first = 42 if symbol == "AAPL" else 1
        assert seqs == list(range(first, first + len(seqs))), symbol


def test_start_seqs_apply_to_replays_too(tmp_path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text("date,symbol,open,high,low,close,volume\n2026-11-24,AAPL,10,11,9,10.5,1000\n")
    config = SimulatorConfig(mode="replay", replay_file=str(csv), ticks_per_bar=10, start_seqs={"AAPL": 7})
    _, blocks = make_source(config)
    assert next(blocks).seq.tolist()[:3] == [8, 9, 10]
