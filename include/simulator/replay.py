"""Replay of historical daily bars as intraday ticks.

Reads either the long format ``date,symbol,open,high,low,close,volume`` or the per-index layout of
the original project's ``indexProcessed.csv`` (``Index,Date,Open,High,Low,Close,Adj Close,Volume,
CloseUSD``: one row per index per day, the symbol in ``Index``). Each bar becomes ``ticks_per_bar``
ticks during that day's regular session whose prices follow a Brownian bridge from the open through
the high and the low (in random order) to the close, clipped to [low, high], so the replayed ticks
reproduce each bar's OHLC exactly (after rounding to the 1/10,000 price grid).

Errors name the file, the line and the reason: a replay that silently skipped bad rows would make
the downstream counts impossible to reconcile.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from simulator.calendar import SESSION_SECONDS, US_PER_S, TradingCalendar
from simulator.model import CENT, LOT, PRICE_SCALE, TickBlock, last_seqs
from simulator.universe import EXCHANGES

LONG_COLUMNS = ("date", "symbol", "open", "high", "low", "close", "volume")
INDEX_COLUMNS = ("index", "date", "open", "high", "low", "close")  # plus Adj Close, Volume, CloseUSD
MIN_PRICE = 0.01


class ReplayFileError(ValueError):
    """The replay file is missing or malformed; the message names the line and the reason."""


@dataclass(frozen=True)
class Bars:
    """Daily bars sorted by (date, symbol); prices already on the PRICE_SCALE integer grid."""

    symbols: tuple[str, ...]
    day: np.ndarray  # datetime64[D]
    sym: np.ndarray  # int16 into symbols
    open: np.ndarray  # int64 price units
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # int64

    def __len__(self) -> int:
        return int(self.sym.shape[0])


def _number(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ReplayFileError(f"{where}: column {column!r} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ReplayFileError(f"{where}: column {column!r} is not finite: {text!r}")
    return value


def load_bars(path: str | Path) -> Bars:
    """Parse and validate a bar file (long or per-index layout, detected from the header)."""
    p = Path(path)
    if not p.is_file():
        raise ReplayFileError(f"replay file {p} does not exist or is not a file")
    rows: dict[tuple[date, str], tuple[int, float, float, float, float, float]] = {}
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise ReplayFileError(f"{p}:1: the file is empty (expected a header line)") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ReplayFileError(f"{p}:1: unreadable header: {exc}") from None
        names = [h.strip().lower() for h in header]
        if all(c in names for c in LONG_COLUMNS):
            _layout, sym_col = "long", "symbol"
        elif all(c in names for c in INDEX_COLUMNS):
            _layout, sym_col = "index", "index"
        else:
            raise ReplayFileError(
                f"{p}:1: unrecognised header {header!r}; expected columns {','.join(LONG_COLUMNS)} "
                f"or the indexProcessed.csv layout Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD"
            )
        col = {name: names.index(name) for name in (*INDEX_COLUMNS[1:], sym_col, "volume") if name in names}
        line = 1
        try:
            for record in reader:
                line = reader.line_num
                where = f"{p}:{line}"
                if not record or all(not f.strip() for f in record):
                    continue
                if len(record) != len(header):
                    raise ReplayFileError(f"{where}: expected {len(header)} fields, found {len(record)}")
                symbol = record[col[sym_col]].strip()
                if not symbol or any(c.isspace() or c in '"\\' for c in symbol):
                    raise ReplayFileError(f"{where}: invalid symbol {symbol!r}")
                try:
                    day = date.fromisoformat(record[col["date"]].strip()[:10])
                except ValueError:
                    raise ReplayFileError(
                        f"{where}: column 'date' is not a YYYY-MM-DD date: {record[col['date']]!r}"
                    ) from None
                o, h, lo, c = (_number(record[col[k]], k, where) for k in ("open", "high", "low", "close"))
                vol_text = record[col["volume"]].strip() if "volume" in col else ""
                vol = _number(vol_text, "volume", where) if vol_text else 0.0
                if min(o, h, lo, c) < MIN_PRICE:
                    raise ReplayFileError(
                        f"{where}: prices must be >= {MIN_PRICE} (open={o} high={h} low={lo} close={c})"
                    )
                if not (lo <= min(o, c) and max(o, c) <= h):
                    raise ReplayFileError(
                        f"{where}: inconsistent bar: need low <= open, close <= high (open={o} high={h} "
                        f"low={lo} close={c})"
                    )
                if vol < 0:
                    raise ReplayFileError(f"{where}: volume must be >= 0, got {vol}")
                key = (day, symbol)
                if key in rows:
                    raise ReplayFileError(
                        f"{where}: duplicate bar for {symbol} on {day} (first seen on line {rows[key][0]})"
                    )
                rows[key] = (line, o, h, lo, c, vol)
        except csv.Error as exc:
            raise ReplayFileError(f"{p}:{reader.line_num}: malformed CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ReplayFileError(f"{p}:{line + 1}: not UTF-8 text: {exc}") from None
    if not rows:
        raise ReplayFileError(f"{p}: no bars after the header")
    keys = sorted(rows)
    symbols = tuple(sorted({s for _, s in keys}))
    index = {s: i for i, s in enumerate(symbols)}
    vals = np.array([rows[k][1:] for k in keys], dtype=np.float64)
    grid = np.rint(vals[:, :4] * PRICE_SCALE).astype(np.int64)
    return Bars(
        symbols=symbols,
        day=np.array([k[0] for k in keys], dtype="datetime64[D]"),
        sym=np.array([index[k[1]] for k in keys], dtype=np.int16),
        open=grid[:, 0],
        high=grid[:, 1],
        low=grid[:, 2],
        close=grid[:, 3],
        volume=vals[:, 4].astype(np.int64),
    )


def bridge_paths(
    rng: np.random.Generator,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    n: int,
) -> np.ndarray:
    """(bars, n) integer price paths: start at open, end at close, touch high and low, stay inside.

    Four knots per bar (open at 0, high and low at two distinct random interior points in random
    order, close at n-1), joined by Brownian bridges scaled to the bar's range, then clipped.
    """
    if n < 4:
        raise ValueError("ticks_per_bar must be >= 4 (open, high, low, close)")
    b = o.shape[0]
    ij = _two_distinct(rng, b, n)
    high_first = rng.random(b) < 0.5
    kpos = np.stack([np.zeros(b, np.int64), ij[:, 0], ij[:, 1], np.full(b, n - 1)], axis=1)
    kval = np.stack([o, np.where(high_first, h, lo), np.where(high_first, lo, h), c], axis=1).astype(np.float64)
    steps = rng.standard_normal((b, n - 1))
    w = np.concatenate([np.zeros((b, 1)), np.cumsum(steps, axis=1)], axis=1)
    j = np.arange(n)[None, :]
    seg = (j >= kpos[:, 1:2]).astype(np.int64) + (j >= kpos[:, 2:3]) + (j >= kpos[:, 3:4])
    seg = np.minimum(seg, 2)
    p0 = np.take_along_axis(kpos, seg, axis=1)
    p1 = np.take_along_axis(kpos, seg + 1, axis=1)
    y0 = np.take_along_axis(kval, seg, axis=1)
    y1 = np.take_along_axis(kval, seg + 1, axis=1)
    w0 = np.take_along_axis(w, p0, axis=1)
    w1 = np.take_along_axis(w, p1, axis=1)
    frac = (j - p0) / np.maximum(p1 - p0, 1)
    bridge = (w - w0) - frac * (w1 - w0)
    scale = ((h - lo).astype(np.float64) / math.sqrt(n) * 0.6)[:, None]
    path = y0 + frac * (y1 - y0) + scale * bridge
    path = np.clip(np.rint(path), lo[:, None], h[:, None]).astype(np.int64)
    # Knots exactly (rounding never moves them, but be explicit).
    np.put_along_axis(path, kpos, kval.astype(np.int64), axis=1)
    return path


def _two_distinct(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    first = rng.integers(1, n - 1, b)
    second = rng.integers(1, n - 2, b)
    second = second + (second >= first)  # skip `first`: uniform over the other interior points
    return np.sort(np.stack([first, second], axis=1), axis=1)


class ReplaySource:
    """Turns :class:`Bars` into ticks, one trading day at a time (all symbols of a day merged by time).

    ``tau`` of a tick is its trading-time offset since the first replayed session (days count one
    session each), which paces a replay at a speed factor without waiting through nights.
    """

    def __init__(
        self,
        bars: Bars,
        seed: int = 0,
        ticks_per_bar: int = 390,
        trade_probability: float = 0.5,
        start_seqs: Mapping[str, int] | None = None,
    ) -> None:
        if ticks_per_bar < 4:
            raise ValueError("ticks_per_bar must be >= 4")
        self.bars = bars
        self.symbols = bars.symbols
        self.rng = np.random.default_rng(seed)
        self.ticks_per_bar = ticks_per_bar
        self.trade_probability = trade_probability
        self._seq = last_seqs(bars.symbols, start_seqs)
        self._calendar = TradingCalendar(always_open=True)

    def __len__(self) -> int:
        return len(self.bars) * self.ticks_per_bar

    def blocks(self) -> Iterator[TickBlock]:
        bars, n, rng = self.bars, self.ticks_per_bar, self.rng
        days, starts = np.unique(bars.day, return_index=True)
        ends = np.append(starts[1:], len(bars))
        slot = SESSION_SECONDS / n
        for d_index, (day, a, z) in enumerate(zip(days, starts, ends, strict=True)):
            sl = slice(int(a), int(z))
            k = int(z - a)
            path = bridge_paths(rng, bars.open[sl], bars.high[sl], bars.low[sl], bars.close[sl], n)
            # Tick j of a bar sits in slot j of the session, jittered inside the slot: strictly increasing.
            within = (np.arange(n)[None, :] + rng.random((k, n)) * 0.999) * slot
            within[:, 0] = 0.0  # the opening print at the open
            open_us, _ = self._calendar.session_bounds_us(day.astype(object))
            event_us = open_us + np.rint(within * US_PER_S).astype(np.int64)
            sym = np.repeat(bars.sym[sl], n)
            order = np.argsort(event_us.ravel(), kind="stable")
            sym = sym[order]
            event_us = event_us.ravel()[order]
            price = path.ravel()[order]
            tau = d_index * SESSION_SECONDS + within.ravel()[order]
            m = k * n
            is_trade = rng.random(m) < self.trade_probability
            is_trade[price == 0] = False
            half = np.clip(np.rint(price * 1e-4), CENT // 2, None).astype(np.int64)
            half = np.minimum(half, np.maximum(price - 1, 1))
            # Quotes: mid == price exactly. Trades: price anywhere in [bid, ask].
            shift = np.where(is_trade, np.floor(rng.random(m) * (2 * half + 1)).astype(np.int64), half)
            bid = np.maximum(price - shift, 1)
            ask = bid + 2 * half
            counts = np.bincount(sym, minlength=len(self.symbols))
            rank = np.empty(m, dtype=np.int64)
            sort_sym = np.argsort(sym, kind="stable")
            first = np.concatenate([[0], np.cumsum(counts)[:-1]])
            rank[sort_sym] = np.arange(m) - np.repeat(first, counts)
            seq = self._seq[sym] + rank + 1
            self._seq += counts
            block = TickBlock(
                symbols=self.symbols,
                sym=sym.astype(np.int16),
                event_us=event_us,
                is_trade=is_trade,
                seq=seq,
                exch=rng.integers(0, len(EXCHANGES), m).astype(np.int8),
                price=price,
                size=np.where(is_trade, rng.geometric(0.45, m) * LOT, 0).astype(np.int64),
                bid=bid,
                bid_size=(1 + rng.poisson(3.0, m)) * LOT,
                ask=ask,
                ask_size=(1 + rng.poisson(3.0, m)) * LOT,
                tau=tau,
            )
            yield block
