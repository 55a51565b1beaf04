"""Pacing: how many ticks may go now, or how long to wait, so a run keeps its rate, speed or session.

Kept apart from the run loop (runner.py) so the three rules read in one place:

- ``rate`` > 0: that many ticks per wall-clock second, counted from the (re)start of pacing;
- else ``speed`` > 0: simulated trading time (each tick's ``tau``) plays at that multiple of real time;
- both 0: as fast as possible, in blocks.

A live run stamped by the wall clock also follows the trading session: while the market is closed it
waits for the next open, and pacing (and event-time stamping) restarts from the reopening.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from simulator.calendar import TradingCalendar
from simulator.encode import iso_us
from simulator.model import TickBlock

log = logging.getLogger("simulator")


class Feed:
    """Serves ticks from a stream of blocks in any slice sizes (slicing never changes the ticks)."""

    def __init__(self, blocks: Iterator[TickBlock]) -> None:
        self._blocks = blocks
        self._block: TickBlock | None = None
        self._pos = 0

    def _current(self) -> TickBlock | None:
        while self._block is None or self._pos >= len(self._block):
            try:
                self._block = next(self._blocks)
            except StopIteration:
                self._block = None
                return None
            self._pos = 0
        return self._block

    def next_tau(self) -> float | None:
        block = self._current()
        return None if block is None else float(block.tau[self._pos])

    def count_until(self, tau_limit: float) -> int:
        """Ticks of the current block, from the cursor, with tau <= tau_limit."""
        block = self._current()
        if block is None:
            return 0
        return int(np.searchsorted(block.tau[self._pos :], tau_limit, side="right"))

    def take(self, n: int) -> TickBlock | None:
        """Up to ``n`` ticks (fewer at a block boundary); None when the source is exhausted."""
        block = self._current()
        if block is None:
            return None
        end = min(len(block), self._pos + n)
        out = block.take(slice(self._pos, end))
        self._pos = end
        return out


@dataclass(frozen=True)
class Step:
    """What the loop does next: send `ticks`, or wait `wait_s` and ask again, or end (source exhausted).

    `restart_stamps_us` is set when the market has just reopened: event-time stamping restarts there.
    """

    ticks: int = 0
    wait_s: float = 0.0
    end: bool = False
    restart_stamps_us: int | None = None


class Pacer:
    """Decides each step of a run from the rate, the speed and (optionally) the trading session."""

    def __init__(
        self,
        *,
        rate: float,
        speed: float,
        max_ticks_per_step: int,
        start: float,
        session: TradingCalendar | None = None,
    ) -> None:
        self.rate = rate
        self.speed = speed
        self.max_ticks_per_step = max_ticks_per_step
        self.session = session  # None: ignore the calendar (always open, simulated clock or replay)
        self._t0 = start  # monotonic seconds when pacing (re)started
        self._base = 0  # ticks emitted before that
        self._tau0: float | None = None
        self._closed = False

    def step(self, feed: Feed, emitted: int, now: float, now_us: int) -> Step:
        """The next step at monotonic time `now` (wall clock `now_us`), after `emitted` ticks."""
        restart: int | None = None
        if self.session is not None:
            if not bool(self.session.is_open(now_us)[0]):
                next_open = self.session.next_open_us(now_us)
                if not self._closed:
                    log.info("market closed; next open %s (use always_open for demos)", iso_us(next_open))
                    self._closed = True
                return Step(wait_s=max(0.05, (next_open - now_us) / 1e6))
            if self._closed:  # reopened: restart pacing and stamping from now
                self._closed = False
                self._t0, self._base, restart = now, emitted, now_us
        n = self.max_ticks_per_step
        if self.rate > 0:
            sent = emitted - self._base
            due = int((now - self._t0) * self.rate) + 1 - sent
            if due <= 0:
                return Step(wait_s=(sent + 1) / self.rate - (now - self._t0), restart_stamps_us=restart)
            n = min(n, due)
        elif self.speed > 0:
            next_tau = feed.next_tau()
            if next_tau is None:
                return Step(end=True)
            if self._tau0 is None:
                self._tau0 = next_tau
            limit = self._tau0 + (now - self._t0) * self.speed
            if next_tau > limit:
                return Step(wait_s=(next_tau - limit) / self.speed, restart_stamps_us=restart)
            n = min(n, max(1, feed.count_until(limit)))
        return Step(ticks=n, restart_stamps_us=restart)
