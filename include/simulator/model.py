"""The market model: correlated prices, quotes and trades, generated in numpy blocks.

Prices follow a factor model in *variance time*: one market factor, one factor per sector and an
idiosyncratic Brownian motion per stock, plus rare idiosyncratic jumps. Variance time runs faster
near the open and the close (an intraday U shape), which rescales every Brownian motion alike and
so leaves correlations untouched. Each tick picks a stock (weighted by liquidity), reads its
latent price at the tick's time, and prints either a quote (bid/ask around the price, spread in
whole cents scaled by price and liquidity) or a trade inside the spread in round lots.

Everything is vectorised per block; a Python loop per tick would cap the model at ~100k ticks/s.
Prices are integers in units of 1/10,000 dollar (``PRICE_SCALE``) so the encoder can print them
exactly without float formatting.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from simulator.calendar import SESSION_SECONDS, SessionClock
from simulator.universe import DEFAULT_UNIVERSE, EXCHANGES, Instrument

PRICE_SCALE = 10_000  # price units per dollar
CENT = PRICE_SCALE // 100
TRADING_SECONDS_PER_YEAR = 252 * SESSION_SECONDS
LOT = 100


@dataclass
class TickBlock:
    """A block of ticks as columns. ``size`` is 0 for quotes (null in JSON); prices in PRICE_SCALE units."""

    symbols: tuple[str, ...]
    sym: np.ndarray  # int16 index into symbols
    event_us: np.ndarray  # int64 UTC microseconds
    is_trade: np.ndarray  # bool
    seq: np.ndarray  # int64, strictly increasing per symbol
    exch: np.ndarray  # int8 index into EXCHANGES
    price: np.ndarray  # int64
    size: np.ndarray  # int64
    bid: np.ndarray
    bid_size: np.ndarray
    ask: np.ndarray
    ask_size: np.ndarray
    tau: np.ndarray  # float64 trading seconds since the source started (paces replays by speed)

    _COLUMNS = (
        "sym",
        "event_us",
        "is_trade",
        "seq",
        "exch",
        "price",
        "size",
        "bid",
        "bid_size",
        "ask",
        "ask_size",
        "tau",
    )

    def __len__(self) -> int:
        return int(self.sym.shape[0])

    def take(self, index: slice | np.ndarray) -> TickBlock:
        return TickBlock(self.symbols, *(getattr(self, c)[index] for c in self._COLUMNS))

    @staticmethod
    def concat(blocks: list[TickBlock]) -> TickBlock:
        if not blocks:
            raise ValueError("no blocks to concatenate")
        symbols = blocks[0].symbols
        if any(b.symbols != symbols for b in blocks):
            raise ValueError("blocks have different symbol tables")
        return TickBlock(symbols, *(np.concatenate([getattr(b, c) for b in blocks]) for c in TickBlock._COLUMNS))


def last_seqs(symbols: Sequence[str], start_seqs: Mapping[str, int] | None) -> np.ndarray:
    """Each symbol's sequence number before its first tick: from `start_seqs`, else 0 (seq starts at 1)."""
    return np.array([(start_seqs or {}).get(s, 0) for s in symbols], dtype=np.int64)


@dataclass(frozen=True)
class ModelConfig:
    """Parameters of the market model. ``intensity`` is ticks per second of trading time, all symbols.

    ``jump_share`` is the part of each stock's variance that comes from jumps; the diffusion is
    scaled down by the rest so the total annualised volatility stays the configured one.
    """

    instruments: tuple[Instrument, ...] = DEFAULT_UNIVERSE
    seed: int = 0
    intensity: float = 1000.0
    trade_probability: float = 0.3
    u_shape: float = 2.0  # intraday variance at open/close is (1 + u_shape) x the midday level
    jumps_per_year: float = 8.0
    jump_share: float = 0.05
    exchange_listing_share: float = 0.35

    def __post_init__(self) -> None:
        if not self.instruments:
            raise ValueError("the universe is empty")
        if len({i.symbol for i in self.instruments}) != len(self.instruments):
            raise ValueError("the universe lists a symbol twice")
        if not self.intensity > 0:
            raise ValueError(f"intensity must be > 0 ticks/s, got {self.intensity}")
        if not 0 <= self.trade_probability <= 1:
            raise ValueError("trade_probability must be in [0, 1]")
        if not 0 <= self.jump_share < 1 or self.jumps_per_year < 0:
            raise ValueError("jump_share must be in [0, 1) and jumps_per_year >= 0")
        if self.u_shape < 0:
            raise ValueError("u_shape must be >= 0")


def implied_correlation(instruments: tuple[Instrument, ...], jump_share: float = 0.0) -> np.ndarray:
    """The correlation matrix of log returns the factor model implies (jumps are idiosyncratic)."""
    wm = np.array([i.market_weight for i in instruments])
    ws = np.array([i.sector_weight for i in instruments])
    sectors = np.array([i.sector for i in instruments])
    same = sectors[:, None] == sectors[None, :]
    corr = (np.sqrt(np.outer(wm, wm)) + same * np.sqrt(np.outer(ws, ws))) * (1.0 - jump_share)
    np.fill_diagonal(corr, 1.0)
    return corr


class _Groups:
    """Ticks grouped by an id (market, sector or symbol) with each tick's variance-time gap since the
    previous tick of its group. A stable sort of small ints is a radix sort in numpy: O(n)."""

    def __init__(self, groups: np.ndarray, v: np.ndarray, last_v: np.ndarray) -> None:
        n = groups.shape[0]
        self.order = np.argsort(groups, kind="stable")
        g = groups[self.order]
        vs = v[self.order]
        first = np.ones(n, dtype=bool)
        first[1:] = g[1:] != g[:-1]
        prev = np.empty_like(vs)
        prev[1:] = vs[:-1]
        prev[first] = last_v[g[first]]
        self.g = g
        self.starts = np.flatnonzero(first)
        self.counts = np.diff(np.append(self.starts, n))
        self.ends = self.starts + self.counts - 1
        self.dv_sorted = np.maximum(vs - prev, 0.0)
        last_v[g[self.ends]] = vs[self.ends]

    def dv(self) -> np.ndarray:
        out = np.empty_like(self.dv_sorted)
        out[self.order] = self.dv_sorted
        return out

    def rank(self) -> np.ndarray:
        """0-based position of each tick within its group (for sequence numbers)."""
        out = np.empty(self.order.shape[0], dtype=np.int64)
        out[self.order] = np.arange(self.order.shape[0]) - np.repeat(self.starts, self.counts)
        return out

    def walk(self, z: np.ndarray, last_val: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """A Brownian motion per group read at each tick, continuing from ``last_val`` (updated)."""
        inc = np.sqrt(self.dv_sorted) * z
        if extra is not None:
            inc += extra[self.order]
        cs = np.cumsum(inc)
        s = self.starts
        vals = cs + np.repeat(last_val[self.g[s]] - (cs[s] - inc[s]), self.counts)
        last_val[self.g[self.ends]] = vals[self.ends]
        out = np.empty_like(vals)
        out[self.order] = vals
        return out


class MarketModel:
    """Stateful tick generator; ``next_block(n)`` continues exactly where the last block ended."""

    def __init__(self, config: ModelConfig, clock: SessionClock, start_seqs: Mapping[str, int] | None = None) -> None:
        """`start_seqs`: each symbol's last sequence number so far (a run continuing a chain); else 0."""
        self.config = config
        self.clock = clock
        inst = config.instruments
        self.symbols = tuple(i.symbol for i in inst)
        n = len(inst)
        self.rng = np.random.default_rng(config.seed)
        sigma = np.array([i.volatility for i in inst])
        diffusive = np.sqrt(1.0 - config.jump_share)
        self._sigma2 = sigma**2
        self._b_m = sigma * np.sqrt([i.market_weight for i in inst]) * diffusive
        self._b_s = sigma * np.sqrt([i.sector_weight for i in inst]) * diffusive
        self._b_e = sigma * np.sqrt([1 - i.market_weight - i.sector_weight for i in inst]) * diffusive
        sector_names = sorted({i.sector for i in inst})
        self._sector_of = np.array([sector_names.index(i.sector) for i in inst], dtype=np.int16)
        # Jump sizes chosen so that intensity * E[J^2] = jump_share * sigma^2.
        lam = config.jumps_per_year
        self._jump_sd = np.sqrt(config.jump_share * sigma**2 / lam) if lam > 0 else np.zeros(n)
        self._log_p0 = np.log([i.price for i in inst])
        liq = np.array([i.liquidity for i in inst])
        self._sym_cdf = np.cumsum(liq / liq.sum())
        self._sym_cdf[-1] = 1.0
        self._spread_frac = np.array([i.spread_bps for i in inst]) / 1e4
        self._depth = 2.0 * np.sqrt(liq)
        # Venue choice: listing venue gets a fixed share, the rest split evenly.
        share = config.exchange_listing_share
        probs = np.full((n, len(EXCHANGES)), (1 - share) / (len(EXCHANGES) - 1))
        for k, i in enumerate(inst):
            probs[k, EXCHANGES.index(i.listing)] = share
        self._exch_cdf = np.cumsum(probs, axis=1)
        self._exch_cdf[:, -1] = 1.0
        # State.
        self.tau = 0.0
        v0 = float(self._variance_time(np.zeros(1))[0])
        self._v0 = v0
        self._m_state = (np.full(1, v0), np.zeros(1))
        self._s_state = (np.full(len(sector_names), v0), np.zeros(len(sector_names)))
        self._e_state = (np.full(n, v0), np.zeros(n))
        self._last_seq = last_seqs(self.symbols, start_seqs)
        self.ticks = 0

    # -- time ---------------------------------------------------------------------------------------
    def _variance_time(
        self, tau: np.ndarray, k: np.ndarray | None = None, frac: np.ndarray | None = None
    ) -> np.ndarray:
        """Integrated intraday variance multiplier, in years; its mean rate over a session is 1."""
        if k is None or frac is None:
            _, k, frac = self.clock.map(tau)
        if k is None or frac is None:  # always open: flat
            return tau / TRADING_SECONDS_PER_YEAR
        a = self.config.u_shape
        c = 1.0 / (1.0 + a / 3.0)
        within = c * (frac + a * ((2 * frac - 1) ** 3 + 1) / 6.0)
        return (k + within) * (SESSION_SECONDS / TRADING_SECONDS_PER_YEAR)

    def correlation_matrix(self) -> np.ndarray:
        return implied_correlation(self.config.instruments, self.config.jump_share)

    # -- generation ---------------------------------------------------------------------------------
    def next_block(self, n: int) -> TickBlock:
        if n <= 0:
            raise ValueError("block size must be > 0")
        rng = self.rng
        cfg = self.config
        tau = self.tau + np.cumsum(rng.exponential(1.0 / cfg.intensity, n))
        self.tau = float(tau[-1])
        event_us, k, frac = self.clock.map(tau)
        v = self._variance_time(tau, k, frac)
        sym = np.searchsorted(self._sym_cdf, rng.random(n), side="right").astype(np.int16)
        z = rng.standard_normal((3, n))

        m = _Groups(np.zeros(n, dtype=np.int8), v, self._m_state[0]).walk(z[0], self._m_state[1])
        s = _Groups(self._sector_of[sym], v, self._s_state[0]).walk(z[1], self._s_state[1])
        idio = _Groups(sym, v, self._e_state[0])
        jumps = None
        if cfg.jumps_per_year > 0:
            # A jump lands on a tick with probability 1 - exp(-lambda * variance time since the
            # symbol's previous tick), so jumps, like volatility, cluster at the open and close.
            hit = rng.random(n) < -np.expm1(-cfg.jumps_per_year * idio.dv())
            jumps = np.where(hit, rng.standard_normal(n) * self._jump_sd[sym], 0.0)
        e = idio.walk(z[2], self._e_state[1], jumps)
        rank = idio.rank()

        log_p = (
            self._log_p0[sym]
            + self._b_m[sym] * m
            + self._b_s[sym] * s
            + self._b_e[sym] * e
            - 0.5 * self._sigma2[sym] * (v - self._v0)
        )
        true_c = np.exp(log_p) * 100.0  # cents
        # Spread: whole cents, proportional to price times the name's typical spread (tight for liquid
        # names), randomly wider at times and wider when intraday volatility is high (open, close).
        widen = 1.0 + rng.exponential(0.25, n)
        if frac is not None:
            a = cfg.u_shape
            widen *= np.sqrt((1.0 + a * (2 * frac - 1) ** 2) / (1.0 + a / 3.0))
        spread_c = np.maximum(1, np.rint(true_c * self._spread_frac[sym] * widen)).astype(np.int64)
        bid_c = np.maximum(1, np.rint(true_c - spread_c / 2.0).astype(np.int64))
        ask_c = bid_c + spread_c
        depth = self._depth[sym]
        bid_size = (1 + rng.poisson(depth)) * LOT
        ask_size = (1 + rng.poisson(depth)) * LOT
        is_trade = rng.random(n) < cfg.trade_probability
        # Trades print at the bid, the ask or any cent in between, in round lots.
        trade_c = bid_c + np.floor(rng.random(n) * (spread_c + 1)).astype(np.int64)
        size = np.where(is_trade, rng.geometric(0.45, n) * LOT, 0).astype(np.int64)
        price = np.where(is_trade, trade_c * CENT, (bid_c + ask_c) * (CENT // 2))
        exch_u = rng.random(n)
        exch = (exch_u[:, None] > self._exch_cdf[sym]).sum(axis=1).astype(np.int8)
        seq = self._last_seq[sym] + rank + 1
        self._last_seq += np.bincount(sym, minlength=len(self.symbols))
        self.ticks += n
        return TickBlock(
            self.symbols,
            sym,
            event_us,
            is_trade,
            seq,
            exch,
            price,
            size,
            bid_c * CENT,
            bid_size,
            ask_c * CENT,
            ask_size,
            tau,
        )

    def blocks(self, block_size: int = 8192) -> Iterator[TickBlock]:
        """Endless fixed-size blocks. The ticks depend on (seed, block_size, clock start) only, never
        on how a consumer slices them, which keeps paced live runs reproducible."""
        while True:
            yield self.next_block(block_size)
