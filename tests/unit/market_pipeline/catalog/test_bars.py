"""One-minute bars in pandas, the cross-check of Athena's bars."""

from __future__ import annotations

import pandas as pd
import pytest

from market_pipeline.catalog.bars import compare_bars, compute_bars


def _trades() -> pd.DataFrame:
    t0 = pd.Timestamp("2026-11-25T10:00:00Z")
    return pd.DataFrame(
        {
            "symbol": ["AAPL", "AAPL", "AAPL", "MSFT", "AAPL"],
            "seq": [1, 2, 3, 1, 4],
            "event_time": [t0, t0 + pd.Timedelta("10s"), t0 + pd.Timedelta("10s"), t0, t0 + pd.Timedelta("70s")],
            "price": [100.0, 101.0, 99.0, 300.0, 102.0],
            "size": [100, 200, 100, 50, 100],
        }
    )


def test_compute_bars_ohlcv_vwap():
    bars = compute_bars(_trades())
    aapl = bars[(bars.symbol == "AAPL") & (bars.minute == pd.Timestamp("2026-11-25T10:00:00Z"))].iloc[0]
    assert (aapl.open, aapl.high, aapl.low, aapl.close) == (100.0, 101.0, 99.0, 99.0)
    assert aapl.volume == 400 and aapl.trade_count == 3
    assert aapl.vwap == pytest.approx((100 * 100 + 101 * 200 + 99 * 100) / 400)
    assert len(bars) == 3


def test_compare_bars_reports_differences():
    expected = compute_bars(_trades())
    assert compare_bars(expected, expected.copy()) == []
    changed = expected.copy()
    changed.loc[0, "close"] = 1.0
    changed = changed.drop(index=2)
    problems = compare_bars(expected, changed)
    assert any("close" in p for p in problems)
    assert any(p.startswith("missing bar") for p in problems)
