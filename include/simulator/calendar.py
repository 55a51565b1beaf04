"""US equity trading calendar and the clock that maps simulated trading time to event time.

The model runs in *trading time* (seconds during which the market is open). A :class:`SessionClock`
maps trading time to wall-clock event times, skipping nights, weekends and NYSE holidays, so a
simulated run never emits a tick outside the regular session (09:30-16:00 America/New_York) unless
the calendar is in always-open mode (demos at any hour).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

NEW_YORK = ZoneInfo("America/New_York")
SESSION_OPEN = time(9, 30)
SESSION_CLOSE = time(16, 0)
SESSION_SECONDS = 6.5 * 3600.0
US_PER_S = 1_000_000


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm); Good Friday is two days earlier."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d


@functools.cache
def nyse_holidays(year: int) -> frozenset[date]:
    """Full-day NYSE closures of ``year`` (early closes are not modelled)."""
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:  # NYSE does not observe a Saturday New Year on the Friday before
        days.add(_observed(new_year))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))  # Juneteenth
    return frozenset(days)


@dataclass(frozen=True)
class TradingCalendar:
    """Regular US session, weekends closed, optionally NYSE holidays; or always open."""

    always_open: bool = False
    holidays: bool = True
    extra_closed_days: frozenset[date] = field(default_factory=frozenset)

    def is_trading_day(self, day: date) -> bool:
        if self.always_open:
            return True
        if day.weekday() >= 5 or day in self.extra_closed_days:
            return False
        return not (self.holidays and day in nyse_holidays(day.year))

    def session_bounds_us(self, day: date) -> tuple[int, int]:
        """UTC microseconds of the open and close of ``day``'s regular session (DST-aware)."""
        o = datetime.combine(day, SESSION_OPEN, NEW_YORK)
        c = datetime.combine(day, SESSION_CLOSE, NEW_YORK)
        return to_us(o), to_us(c)

    def sessions_from(self, start_us: int, count: int) -> list[tuple[int, int]]:
        """The next ``count`` sessions whose close is after ``start_us``, in order."""
        day = from_us(start_us).astimezone(NEW_YORK).date()
        out: list[tuple[int, int]] = []
        while len(out) < count:
            if self.is_trading_day(day):
                o, c = self.session_bounds_us(day)
                if c > start_us:
                    out.append((o, c))
            day += timedelta(days=1)
        return out

    def is_open(self, ts_us: np.ndarray | int) -> np.ndarray:
        """Vectorised: is the regular session open at each UTC-microsecond timestamp?"""
        ts = np.atleast_1d(np.asarray(ts_us, dtype=np.int64))
        if self.always_open or ts.size == 0:
            return np.ones(ts.shape, dtype=bool)
        lo, hi = int(ts.min()), int(ts.max())
        first = from_us(lo).astimezone(NEW_YORK).date() - timedelta(days=1)
        last = from_us(hi).astimezone(NEW_YORK).date() + timedelta(days=1)
        bounds = [
            self.session_bounds_us(first + timedelta(days=n))
            for n in range((last - first).days + 1)
            if self.is_trading_day(first + timedelta(days=n))
        ]
        if not bounds:
            return np.zeros(ts.shape, dtype=bool)
        opens = np.array([b[0] for b in bounds], dtype=np.int64)
        closes = np.array([b[1] for b in bounds], dtype=np.int64)
        idx = np.searchsorted(opens, ts, side="right") - 1
        ok = idx >= 0
        return ok & (ts < closes[np.maximum(idx, 0)])

    def next_open_us(self, now_us: int) -> int:
        """``now_us`` if the market is open, else the next session's open."""
        if self.always_open:
            return now_us
        o, _ = self.sessions_from(now_us, 1)[0]
        return max(o, now_us)


def to_us(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError(f"datetime {dt} must be timezone-aware")
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))


class SessionClock:
    """Maps trading time (seconds since the start, counted only while open) to event time.

    Also returns each instant's session fraction (0 at the open, 1 at the close), which drives the
    intraday U-shaped volatility. In always-open mode trading time is wall time and the fraction is
    None (flat intraday volatility).
    """

    def __init__(self, calendar: TradingCalendar, start_us: int) -> None:
        self.calendar = calendar
        self.start_us = int(start_us)
        self._opens: np.ndarray = np.empty(0, dtype=np.int64)
        self._offset = 0.0
        if not calendar.always_open:
            o, _c = calendar.sessions_from(self.start_us, 1)[0]
            # Start inside a session: trading time 0 is `start`, part-way through that session.
            self._offset = max(0.0, (self.start_us - o) / US_PER_S)
            self._extend(8)

    def _extend(self, n: int) -> None:
        after = int(self._opens[-1]) + 1 if self._opens.size else self.start_us
        if self._opens.size:
            # sessions_from(after) returns sessions closing after `after`: the one just stored too.
            new = [o for o, _ in self.calendar.sessions_from(after, n + 1) if o > self._opens[-1]][:n]
        else:
            new = [o for o, _ in self.calendar.sessions_from(after, n)]
        self._opens = np.concatenate([self._opens, np.array(new, dtype=np.int64)])

    def map(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Return (event time in UTC microseconds, session index, session fraction) for trading times."""
        if self.calendar.always_open:
            return self.start_us + np.round(tau * US_PER_S).astype(np.int64), None, None
        pos = tau + self._offset
        k = np.floor(pos / SESSION_SECONDS).astype(np.int64)
        need = int(k.max()) + 1 if k.size else 0
        while self._opens.size < need:
            self._extend(max(8, need - self._opens.size))
        within = pos - k * SESSION_SECONDS
        # Never print at or after the close (floating point at a session boundary).
        within_us = np.minimum(np.round(within * US_PER_S).astype(np.int64), int(SESSION_SECONDS * US_PER_S) - 1)
        return self._opens[k] + within_us, k, within / SESSION_SECONDS
