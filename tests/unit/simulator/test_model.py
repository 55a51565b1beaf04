"""Statistics and invariants of the market model over a long simulated run."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from simulator.calendar import NEW_YORK, SESSION_SECONDS, SessionClock, TradingCalendar, to_us
from simulator.model import LOT, PRICE_SCALE, TRADING_SECONDS_PER_YEAR, MarketModel, ModelConfig, TickBlock
from simulator.pacing import Feed
from simulator.universe import DEFAULT_UNIVERSE, EXCHANGES, parse_universe

GRID_S = 60.0


def _grid_log_mids(run) -> np.ndarray:
    """(grid points, symbols) log mid prices sampled on a trading-time grid (last tick at or before)."""
    t = run.ticks
    mid = np.log((t.bid + t.ask) / 2.0)
    grid = np.arange(GRID_S * 5, float(t.tau[-1]), GRID_S)
    cols = []
    for s in range(len(t.symbols)):
        sel = t.sym == s
        idx = np.searchsorted(t.tau[sel], grid, side="right") - 1
        assert idx.min() >= 0
        cols.append(mid[sel][idx])
    return np.stack(cols, axis=1)


def test_realised_volatility_within_10_percent(long_run) -> None:
    returns = np.diff(_grid_log_mids(long_run), axis=0)
    realised = returns.std(axis=0, ddof=1) * np.sqrt(TRADING_SECONDS_PER_YEAR / GRID_S)
    configured = np.array([i.volatility for i in DEFAULT_UNIVERSE])
    rel = np.abs(realised / configured - 1)
    worst = int(rel.argmax())
    assert rel.max() < 0.10, (
        f"{DEFAULT_UNIVERSE[worst].symbol}: realised {realised[worst]:.3f} vs {configured[worst]:.3f}"
    )


def test_realised_correlation_within_0_1_of_factor_structure(long_run) -> None:
    returns = np.diff(_grid_log_mids(long_run), axis=0)
    realised = np.corrcoef(returns, rowvar=False)
    implied = long_run.model.correlation_matrix()
    assert np.allclose(implied, implied.T)
    assert np.all(np.linalg.eigvalsh(implied) > 0), "implied correlation must be positive definite"
    assert np.allclose(np.diag(implied), 1.0)
    diff = np.abs(realised - implied)
    i, j = np.unravel_index(diff.argmax(), diff.shape)
    assert diff.max() < 0.1, (
        f"{DEFAULT_UNIVERSE[i].symbol}/{DEFAULT_UNIVERSE[j].symbol}: "
        f"realised {realised[i, j]:.3f} vs implied {implied[i, j]:.3f}"
    )
    # The structure is there: same-sector pairs correlate more than cross-sector pairs.
    sectors = np.array([x.sector for x in DEFAULT_UNIVERSE])
    same = (sectors[:, None] == sectors[None, :]) & ~np.eye(len(sectors), dtype=bool)
    cross = sectors[:, None] != sectors[None, :]
    assert realised[same].mean() > realised[cross].mean() + 0.1


def test_quotes_and_trades_are_consistent(long_run) -> None:
    t = long_run.ticks
    assert np.all(t.bid > 0) and np.all(t.price > 0)
    assert np.all(t.bid < t.ask), "bid < ask on every tick"
    assert np.all((t.price >= t.bid) & (t.price <= t.ask)), "price inside the prevailing quote"
    quotes = ~t.is_trade
    assert np.array_equal(t.price[quotes] * 2, t.bid[quotes] + t.ask[quotes]), "quote price is the mid"
    assert np.all(t.size[quotes] == 0)
    assert np.all(t.size[t.is_trade] > 0) and np.all(t.size % LOT == 0), "trades in round lots"
    assert np.all(t.bid_size % LOT == 0) and np.all(t.ask_size % LOT == 0) and t.bid_size.min() >= LOT
    assert np.all(t.bid % (PRICE_SCALE // 100) == 0), "quotes on the cent grid"
    assert 0.25 < t.is_trade.mean() < 0.35
    assert set(np.unique(t.exch)) == set(range(len(EXCHANGES)))
    # Spreads scale with price: NFLX (~$720) quotes wider than INTC (~$22).
    spread = (t.ask - t.bid).astype(float)
    nflx, intc = t.symbols.index("NFLX"), t.symbols.index("INTC")
    assert spread[t.sym == nflx].mean() > 3 * spread[t.sym == intc].mean()


def test_sequence_numbers_strictly_increasing_per_symbol(long_run) -> None:
    t = long_run.ticks
    for s in range(len(t.symbols)):
        seq = t.seq[t.sym == s]
        assert seq[0] == 1 and np.all(np.diff(seq) == 1), t.symbols[s]
    assert np.all(np.diff(t.event_us) >= 0), "event time never goes backwards"


def test_no_ticks_outside_the_session(long_run) -> None:
    t = long_run.ticks
    assert long_run.calendar.is_open(t.event_us).all()
    days = {
        (datetime(1970, 1, 1, tzinfo=NEW_YORK.__class__("UTC")) + timedelta(microseconds=int(u)))
        .astimezone(NEW_YORK)
        .date()
        for u in t.event_us[::5000]
    }
    assert date(2026, 11, 26) not in days, "Thanksgiving is closed"
    assert not any(d.weekday() >= 5 for d in days), "weekends are closed"
    assert date(2026, 11, 27) in days and date(2026, 11, 30) in days


def test_intraday_volatility_is_u_shaped(long_run) -> None:
    t = long_run.ticks
    frac = (t.tau % SESSION_SECONDS) / SESSION_SECONDS  # the run starts at an open
    sel = t.sym == t.symbols.index("AAPL")
    r = np.diff(np.log((t.bid[sel] + t.ask[sel]) / 2.0))
    f = frac[sel][1:]
    edges = r[(f < 0.1) | (f > 0.9)].var()
    midday = r[(f > 0.4) & (f < 0.6)].var()
    assert edges > 1.5 * midday


def test_always_open_ticks_at_night_and_weekends() -> None:
    start = to_us(datetime(2026, 11, 28, 3, 0, tzinfo=NEW_YORK))  # a Saturday, 3 a.m.
    model = MarketModel(ModelConfig(intensity=10.0), SessionClock(TradingCalendar(always_open=True), start))
    block = model.next_block(1000)
    assert block.event_us[0] >= start and not TradingCalendar().is_open(block.event_us).any()


def _ticks(seed: int, n: int = 20_000, sizes: tuple[int, ...] = (n_default := 4096,)) -> TickBlock:
    start = to_us(datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK))
    model = MarketModel(ModelConfig(seed=seed), SessionClock(TradingCalendar(), start))
    feed = Feed(model.blocks(8192))
    out, i = [], 0
    while sum(map(len, out)) < n:
        out.append(feed.take(sizes[i % len(sizes)]))
        i += 1
    return TickBlock.concat(out).take(slice(0, n))


def _same(a: TickBlock, b: TickBlock) -> bool:
    return all(np.array_equal(getattr(a, c), getattr(b, c)) for c in TickBlock._COLUMNS)


def test_same_seed_same_ticks_regardless_of_slicing() -> None:
    a = _ticks(42)
    assert _same(a, _ticks(42))
    assert _same(a, _ticks(42, sizes=(1, 7, 999, 5000))), "pacing chunk sizes must not change the ticks"
    assert not np.array_equal(a.price, _ticks(43).price)


def test_universe_parsing() -> None:
    assert len(parse_universe("default")) == 20
    assert [i.symbol for i in parse_universe(" aapl, MSFT ")] == ["AAPL", "MSFT"]
    with pytest.raises(ValueError, match="APPL"):
        parse_universe("APPL")
    with pytest.raises(ValueError, match="twice"):
        parse_universe("AAPL,AAPL")


def test_model_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="intensity"):
        ModelConfig(intensity=0)
    with pytest.raises(ValueError, match="empty"):
        ModelConfig(instruments=())
