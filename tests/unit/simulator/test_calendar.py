"""The trading calendar: sessions, DST, holidays, and the trading-time clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from simulator.calendar import NEW_YORK, SESSION_SECONDS, SessionClock, TradingCalendar, nyse_holidays, to_us


def test_nyse_holidays_2026() -> None:
    assert nyse_holidays(2026) == {
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 2, 16),
        date(2026, 4, 3),
        date(2026, 5, 25),
        date(2026, 6, 19),
        date(2026, 7, 3),
        date(2026, 9, 7),
        date(2026, 11, 26),
        date(2026, 12, 25),
    }
    assert date(2022, 1, 1) not in nyse_holidays(2022) and date(2021, 12, 31) not in nyse_holidays(2021)


def test_session_bounds_follow_new_york_dst() -> None:
    cal = TradingCalendar()
    summer_open, summer_close = cal.session_bounds_us(date(2026, 7, 1))
    winter_open, _ = cal.session_bounds_us(date(2026, 12, 1))
    assert summer_open == to_us(datetime(2026, 7, 1, 13, 30, tzinfo=UTC))
    assert winter_open == to_us(datetime(2026, 12, 1, 14, 30, tzinfo=UTC))
    assert (summer_close - summer_open) / 1e6 == SESSION_SECONDS


def test_is_open() -> None:
    cal = TradingCalendar()
    ts = [
        datetime(2026, 11, 24, 9, 29, 59, tzinfo=NEW_YORK),  # before the open
        datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK),
        datetime(2026, 11, 24, 15, 59, 59, tzinfo=NEW_YORK),
        datetime(2026, 11, 24, 16, 0, tzinfo=NEW_YORK),  # the close is exclusive
        datetime(2026, 11, 26, 12, 0, tzinfo=NEW_YORK),  # Thanksgiving
        datetime(2026, 11, 28, 12, 0, tzinfo=NEW_YORK),  # Saturday
    ]
    got = cal.is_open(np.array([to_us(t) for t in ts]))
    assert got.tolist() == [False, True, True, False, False, False]
    assert TradingCalendar(always_open=True).is_open(np.array([to_us(t) for t in ts])).all()
    assert TradingCalendar(holidays=False).is_open(to_us(ts[4]))[0]


def test_session_clock_skips_closed_time() -> None:
    cal = TradingCalendar()
    start = to_us(datetime(2026, 11, 25, 15, 0, tzinfo=NEW_YORK))  # 1 hour before the close
    clock = SessionClock(cal, start)
    event_us, k, frac = clock.map(np.array([0.0, 3599.0, 3601.0]))
    assert event_us[0] == start
    # 3601 s of trading time later is one second after Friday's open (Thursday is Thanksgiving).
    assert event_us[2] == to_us(datetime(2026, 11, 27, 9, 30, 1, tzinfo=NEW_YORK))
    assert k is not None and k.tolist() == [0, 0, 1]
    assert frac is not None and 0 < frac[2] < 0.001
