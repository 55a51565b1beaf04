"""Pacing without a broker: rate, speed and the trading session decide each step of a run."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from simulator.calendar import NEW_YORK, SessionClock, TradingCalendar, to_us
from simulator.model import MarketModel, ModelConfig
from simulator.pacing import Feed, Pacer


def feed(intensity: float = 100.0) -> Feed:
    start = to_us(datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK))
    return Feed(MarketModel(ModelConfig(intensity=intensity), SessionClock(TradingCalendar(), start)).blocks(1000))


def test_rate_allows_what_is_due_and_says_how_long_to_wait():
    pacer = Pacer(rate=100.0, speed=0.0, max_ticks_per_step=8192, start=0.0)
    assert pacer.step(feed(), emitted=0, now=0.0, now_us=0).ticks == 1  # the first tick goes at once
    assert pacer.step(feed(), emitted=1, now=0.5, now_us=0).ticks == 50  # 0.5 s at 100/s: ticks 1..50
    wait = pacer.step(feed(), emitted=51, now=0.5, now_us=0)  # the 52nd tick is due at 0.51 s
    assert wait.ticks == 0 and 0 < wait.wait_s <= 2 / 100.0 + 1e-9
    assert pacer.step(feed(), emitted=51, now=0.5 + wait.wait_s, now_us=0).ticks >= 1
    assert pacer.step(feed(), emitted=0, now=1000.0, now_us=0).ticks == 8192  # never more than a block


def test_speed_plays_trading_time_at_a_multiple_of_real_time():
    source = feed(intensity=100.0)
    pacer = Pacer(rate=0.0, speed=2.0, max_ticks_per_step=8192, start=0.0)
    first = pacer.step(source, emitted=0, now=0.0, now_us=0)
    assert first.ticks == 1  # the first tick's trading time is the origin
    tau0 = source.next_tau()
    n = pacer.step(source, emitted=0, now=2.5, now_us=0).ticks  # 2.5 s real = 5 s of trading time
    assert n == source.count_until(tau0 + 5.0) and 400 < n < 600
    block = source.take(n)
    assert block is not None and np.all(block.tau <= tau0 + 5.0)
    assert pacer.step(source, emitted=n, now=2.5, now_us=0).wait_s > 0


def test_a_closed_market_waits_for_the_open_then_restarts_pacing_and_stamps():
    calendar = TradingCalendar()
    saturday = to_us(datetime(2026, 11, 28, 12, 0, tzinfo=NEW_YORK))
    monday_open = to_us(datetime(2026, 11, 30, 9, 30, tzinfo=NEW_YORK))
    pacer = Pacer(rate=10.0, speed=0.0, max_ticks_per_step=8192, start=0.0, session=calendar)
    closed = pacer.step(feed(), emitted=0, now=0.0, now_us=saturday)
    assert closed.ticks == 0 and closed.wait_s == (monday_open - saturday) / 1e6
    opened = pacer.step(feed(), emitted=0, now=100.0, now_us=monday_open)
    assert opened.restart_stamps_us == monday_open and opened.ticks == 1  # pacing counts from the reopening
    assert pacer.step(feed(), emitted=1, now=100.5, now_us=monday_open).ticks == 5
