"""Validation of the page's query parameters.

Why: symbols end up inside Athena SQL and ranges bound how much data a query scans, so both are checked
against a strict grammar before anything runs; a bad value is a 422 with a message a person can act on.
"""

from __future__ import annotations

import re
from datetime import datetime

from market_pipeline.layout import parse_instant

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")
MAX_SYMBOLS = 10
MIN_MINUTES = 1
MAX_MINUTES = 1440
DEFAULT_MINUTES = 60
MAX_LIMIT = 100


class ParamError(ValueError):
    """A query parameter is invalid; the message names the parameter and what is allowed."""


def parse_symbols(raw: str | None, *, required: bool = True) -> list[str]:
    """Comma-separated symbols -> unique list in the given order; raises ParamError when invalid."""
    if raw is None or not raw.strip():
        if required:
            raise ParamError("symbols: at least one symbol is required, e.g. symbols=AAPL,MSFT")
        return []
    symbols: list[str] = []
    for part in raw.split(","):
        symbol = part.strip()
        if not symbol:
            continue
        if not SYMBOL_RE.match(symbol):
            shown = symbol if len(symbol) <= 20 else symbol[:20] + "..."
            raise ParamError(
                f"symbols: {shown!r} is not a valid symbol (1-10 characters: an upper-case letter, "
                "then upper-case letters, digits or dots)"
            )
        if symbol not in symbols:
            symbols.append(symbol)
    if not symbols and required:
        raise ParamError("symbols: at least one symbol is required, e.g. symbols=AAPL,MSFT")
    if len(symbols) > MAX_SYMBOLS:
        raise ParamError(f"symbols: at most {MAX_SYMBOLS} symbols per request, got {len(symbols)}")
    return symbols


def parse_int(raw: str | None, name: str, default: int, low: int, high: int, unit: str = "") -> int:
    """An integer in [low, high]; `default` when absent; raises ParamError otherwise."""
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ParamError(f"{name}: expected a whole number between {low} and {high}{unit}, got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise ParamError(f"{name}: must be between {low} and {high}{unit}, got {value}")
    return value


def parse_minutes(raw: str | None) -> int:
    """The chart's range length in minutes (1..1440)."""
    return parse_int(raw, "minutes", DEFAULT_MINUTES, MIN_MINUTES, MAX_MINUTES, " minutes")


def parse_limit(raw: str | None, default: int = 10) -> int:
    """How many windows/reports to list (1..100)."""
    return parse_int(raw, "limit", default, 1, MAX_LIMIT)


def parse_end(raw: str | None) -> datetime | None:
    """An optional ISO-8601 end of the chart's range (naive means UTC); None means "newest bar"."""
    if raw is None or not raw.strip() or raw.strip().lower() == "latest":
        return None
    text = raw.strip()
    try:
        moment = parse_instant(text)  # naive means UTC
    except ValueError:
        raise ParamError(
            f"end: expected an ISO-8601 time such as 2026-11-25T15:30:00Z or 'latest', got {text[:40]!r}"
        ) from None
    if not 2000 <= moment.year <= 2100:
        raise ParamError(f"end: year must be between 2000 and 2100, got {moment.year}")
    return moment
