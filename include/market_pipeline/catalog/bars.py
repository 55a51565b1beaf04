"""One-minute OHLCV bars computed with pandas, to cross-check the bars Athena builds.

The same definition as sql/insert_bars.sql: trades only; open/close by per-symbol sequence number;
VWAP = sum(price * size) / sum(size).
"""

from __future__ import annotations

import math

import pandas as pd

BAR_COLUMNS = ["symbol", "minute", "open", "high", "low", "close", "volume", "vwap", "trade_count"]


def compute_bars(trades: pd.DataFrame) -> pd.DataFrame:
    """Bars from raw trades with columns symbol, seq, event_time, price, size."""
    if trades.empty:
        return pd.DataFrame(columns=BAR_COLUMNS)
    df = trades.copy()
    df["event_time"] = pd.to_datetime(df["event_time"], utc=True)
    df["minute"] = df["event_time"].dt.floor("min")
    df["notional"] = df["price"].astype("float64") * df["size"].astype("float64")
    df = df.sort_values(["symbol", "seq"], kind="stable")
    grouped = df.groupby(["symbol", "minute"], sort=True)
    bars = grouped.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
        notional=("notional", "sum"),
        trade_count=("price", "size"),
    ).reset_index()
    bars["vwap"] = bars["notional"] / bars["volume"]
    return bars[BAR_COLUMNS].reset_index(drop=True)


def compare_bars(expected: pd.DataFrame, actual: pd.DataFrame, rel_tol: float = 1e-9) -> list[str]:
    """Differences between two bar sets, as readable lines (empty when they agree)."""
    problems: list[str] = []
    exp = _keyed(expected)
    act = _keyed(actual)
    for key in sorted(set(exp) - set(act)):
        problems.append(f"missing bar {key[0]} {key[1]}")
    for key in sorted(set(act) - set(exp)):
        problems.append(f"unexpected bar {key[0]} {key[1]}")
    for key in sorted(set(exp) & set(act)):
        for column in ("open", "high", "low", "close", "vwap"):
            a, b = float(exp[key][column]), float(act[key][column])
            if not math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9):
                problems.append(f"{key[0]} {key[1]} {column}: pandas {a} vs Athena {b}")
        for column in ("volume", "trade_count"):
            a, b = int(exp[key][column]), int(act[key][column])
            if a != b:
                problems.append(f"{key[0]} {key[1]} {column}: pandas {a} vs Athena {b}")
    return problems


def _keyed(bars: pd.DataFrame) -> dict[tuple[str, str], dict[str, object]]:
    if bars.empty:
        return {}
    frame = bars.copy()
    frame["minute"] = pd.to_datetime(frame["minute"], utc=True).dt.strftime("%Y-%m-%dT%H:%MZ")
    return {(row["symbol"], row["minute"]): row for row in frame.to_dict("records")}
