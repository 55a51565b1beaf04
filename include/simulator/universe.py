"""The tradable universe: symbols with realistic starting prices, volatilities, sectors and liquidity.

Kept as plain data so that a run is reproducible from its configuration alone and so that tests can
derive the correlation structure the model is supposed to produce.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Venues a tick may print on. All codes are 4 characters (ISO 10383 MICs); the encoder relies on it.
EXCHANGES: tuple[str, ...] = ("XNAS", "XNYS", "ARCX", "BATS", "EDGX", "IEXG", "MEMX", "XCHI")

_SYMBOL_RE = re.compile(r"^[A-Za-z0-9.^=_-]{1,16}$")


@dataclass(frozen=True)
class Instrument:
    """One simulated stock.

    ``volatility`` is annualised (0.30 = 30 %/year). ``market_weight`` and ``sector_weight`` are the
    shares of its return variance explained by the market and its sector factor (the rest is
    idiosyncratic), which fixes the correlation between any two instruments. ``liquidity`` scales how
    often it ticks relative to the others and how tight and deep its quotes are. ``spread_bps`` is
    the typical quoted spread in basis points of the price.
    """

    symbol: str
    sector: str
    price: float
    volatility: float
    listing: str = "XNAS"
    liquidity: float = 1.0
    spread_bps: float = 2.0
    market_weight: float = 0.35
    sector_weight: float = 0.20

    def __post_init__(self) -> None:
        if not _SYMBOL_RE.match(self.symbol):
            # The JSON encoder writes symbols verbatim between quotes and strips padding spaces.
            raise ValueError(f"symbol {self.symbol!r} must match {_SYMBOL_RE.pattern}")
        if not self.price > 0:
            raise ValueError(f"{self.symbol}: price must be > 0, got {self.price}")
        if not 0 < self.volatility < 5:
            raise ValueError(f"{self.symbol}: volatility must be in (0, 5), got {self.volatility}")
        if self.listing not in EXCHANGES:
            raise ValueError(f"{self.symbol}: listing {self.listing!r} is not one of {EXCHANGES}")
        if not self.liquidity > 0:
            raise ValueError(f"{self.symbol}: liquidity must be > 0")
        if not (self.market_weight >= 0 and self.sector_weight >= 0 and self.market_weight + self.sector_weight < 1):
            raise ValueError(f"{self.symbol}: market_weight + sector_weight must be in [0, 1)")


def _i(symbol: str, sector: str, price: float, vol: float, listing: str, liq: float, bps: float) -> Instrument:
    return Instrument(symbol, sector, price, vol, listing, liq, bps)


# Late-2020s-ish levels; volatilities are typical long-run implied vols. Liquidity ~ relative ADV.
DEFAULT_UNIVERSE: tuple[Instrument, ...] = (
    _i("AAPL", "Technology", 228.0, 0.26, "XNAS", 3.0, 0.6),
    _i("MSFT", "Technology", 425.0, 0.24, "XNAS", 2.5, 0.5),
    _i("NVDA", "Technology", 135.0, 0.50, "XNAS", 4.0, 0.8),
    _i("INTC", "Technology", 22.0, 0.42, "XNAS", 1.5, 4.5),
    _i("GOOGL", "Communication", 175.0, 0.30, "XNAS", 2.0, 0.7),
    _i("META", "Communication", 580.0, 0.36, "XNAS", 1.8, 0.6),
    _i("NFLX", "Communication", 720.0, 0.38, "XNAS", 0.8, 1.2),
    _i("DIS", "Communication", 95.0, 0.28, "XNYS", 0.9, 1.1),
    _i("AMZN", "ConsumerDiscretionary", 190.0, 0.32, "XNAS", 2.5, 0.6),
    _i("TSLA", "ConsumerDiscretionary", 250.0, 0.58, "XNAS", 3.5, 0.5),
    _i("JPM", "Financials", 215.0, 0.23, "XNYS", 1.2, 0.7),
    _i("BAC", "Financials", 41.0, 0.27, "XNYS", 1.5, 2.5),
    _i("XOM", "Energy", 118.0, 0.25, "XNYS", 1.2, 0.9),
    _i("CVX", "Energy", 155.0, 0.25, "XNYS", 0.9, 0.9),
    _i("JNJ", "HealthCare", 160.0, 0.17, "XNYS", 0.9, 0.8),
    _i("PFE", "HealthCare", 28.0, 0.24, "XNYS", 1.3, 3.6),
    _i("UNH", "HealthCare", 560.0, 0.25, "XNYS", 0.7, 0.9),
    _i("WMT", "ConsumerStaples", 80.0, 0.18, "XNYS", 1.1, 1.3),
    _i("KO", "ConsumerStaples", 68.0, 0.15, "XNYS", 0.9, 1.5),
    _i("PG", "ConsumerStaples", 168.0, 0.16, "XNYS", 0.8, 0.8),
)

DEFAULT_SYMBOLS: tuple[str, ...] = tuple(i.symbol for i in DEFAULT_UNIVERSE)
_BY_SYMBOL = {i.symbol: i for i in DEFAULT_UNIVERSE}


def parse_universe(spec: str | Iterable[str] | None) -> tuple[Instrument, ...]:
    """Resolve ``"default"``, ``"AAPL,MSFT"`` or a list of symbols to instruments.

    Unknown symbols are rejected (a typo such as ``APPL`` would otherwise silently simulate a stock
    nobody asked for); build :class:`Instrument` objects yourself for a custom universe.
    """
    if spec is None:
        return DEFAULT_UNIVERSE
    if isinstance(spec, str):
        text = spec.strip()
        if text == "" or text.lower() == "default":
            return DEFAULT_UNIVERSE
        names: Sequence[str] = [s.strip().upper() for s in text.split(",") if s.strip()]
    else:
        names = [str(s).strip().upper() for s in spec]
    if not names:
        raise ValueError("universe is empty")
    unknown = [s for s in names if s not in _BY_SYMBOL]
    if unknown:
        raise ValueError(f"unknown symbol(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_SYMBOLS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"universe lists a symbol twice: {', '.join(names)}")
    return tuple(_BY_SYMBOL[s] for s in names)
