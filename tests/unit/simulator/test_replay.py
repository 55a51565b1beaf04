"""Replay: ticks honour each bar's OHLC; malformed files fail naming the line and the reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from simulator.calendar import TradingCalendar
from simulator.encode import JsonEncoder
from simulator.model import PRICE_SCALE, TickBlock
from simulator.replay import ReplayFileError, ReplaySource, bridge_paths, load_bars

LONG = """date,symbol,open,high,low,close,volume
2024-03-04,AAPL,175.0,176.5,174.2,176.0,1000
2024-03-04,MSFT,410.0,412.0,405.5,406.25,2000
2024-03-05,AAPL,176.0,176.0,170.0,170.5,1500
2024-03-05,MSFT,406.0,409.9,406.0,409.9,2500
2024-03-06,AAPL,171.0,173.0,169.0,172.0,900
"""

# The original project's indexProcessed.csv layout (one row per index per day).
INDEX = """Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD
HSI,1986-12-31,2568.300049,2568.300049,2568.300049,2568.300049,2568.300049,0,333.87900637
HSI,1987-01-02,2540.100098,2540.100098,2540.100098,2540.100098,2540.100098,0,330.21301274
NYA,1987-01-02,1392.660034,1422.719971,1392.660034,1422.719971,1422.719971,0,1422.719971
NYA,1987-01-05,1422.719971,1459.089966,1421.5,1453.170044,1453.170044,0,1453.170044
"""


def _write(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("text", [LONG, INDEX], ids=["long", "indexProcessed"])
def test_ticks_honour_each_bar(tmp_path: Path, text: str, validate_messages) -> None:
    bars = load_bars(_write(tmp_path, text))
    n = 50
    source = ReplaySource(bars, seed=5, ticks_per_bar=n)
    ticks = TickBlock.concat(list(source.blocks()))
    assert len(ticks) == len(bars) * n == len(source)
    cal = TradingCalendar(always_open=False, holidays=False)
    days = ticks.event_us.astype("datetime64[us]").astype("datetime64[D]")
    for b in range(len(bars)):
        sel = (ticks.sym == bars.sym[b]) & (days == bars.day[b])
        p = ticks.price[sel]
        assert len(p) == n
        assert p.min() == bars.low[b] and p.max() == bars.high[b], "high and low are touched"
        assert p[0] == bars.open[b] and p[-1] == bars.close[b], "first tick at the open, last at the close"
        assert np.all((p >= bars.low[b]) & (p <= bars.high[b]))
        o, c = cal.session_bounds_us(bars.day[b].astype(object))
        assert np.all((ticks.event_us[sel] >= o) & (ticks.event_us[sel] < c))
    assert np.all(ticks.bid < ticks.ask) and np.all(ticks.bid > 0)
    assert np.all((ticks.price >= ticks.bid) & (ticks.price <= ticks.ask))
    for s in range(len(ticks.symbols)):
        seq = ticks.seq[ticks.sym == s]
        assert seq[0] == 1 and np.all(np.diff(seq) == 1)
    assert np.all(np.diff(ticks.event_us) >= 0)
    validate_messages(JsonEncoder(ticks.symbols).encode(ticks))


def test_index_layout_reads_the_index_column(tmp_path: Path) -> None:
    bars = load_bars(_write(tmp_path, INDEX))
    assert bars.symbols == ("HSI", "NYA")
    assert bars.day[0] == np.datetime64(date(1986, 12, 31))
    assert bars.open[0] == round(2568.300049 * PRICE_SCALE)


def test_bridge_paths_many_bars() -> None:
    rng = np.random.default_rng(0)
    o = np.full(1000, 10_000)
    h = np.full(1000, 10_500)
    lo = np.full(1000, 9_000)
    c = np.full(1000, 9_500)
    path = bridge_paths(rng, o, h, lo, c, 20)
    assert np.all(path[:, 0] == o) and np.all(path[:, -1] == c)
    assert np.all(path.max(axis=1) == h) and np.all(path.min(axis=1) == lo)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (LONG.replace("176.5", "abc"), 2, "column 'high' is not a number: 'abc'"),
        (LONG.replace("2024-03-05,AAPL", "2024-13-05,AAPL"), 4, "not a YYYY-MM-DD date"),
        (LONG.replace("406.0,409.9,406.0", "406.0,401.0,406.0"), 5, "inconsistent bar"),
        (LONG + "2024-03-06,MSFT,1,2,3\n", 7, "expected 7 fields, found 5"),
        (LONG + "2024-03-04,AAPL,1,2,1,2,3\n", 7, "duplicate bar for AAPL on 2024-03-04 (first seen on line 2)"),
        (LONG.replace("1500", "-5"), 4, "volume must be >= 0"),
        (LONG.replace("171.0,173.0,169.0,172.0", "0,0,0,0"), 6, "prices must be >="),
        (LONG.replace("174.2", "nan"), 2, "not finite"),
        ("a,b,c\n1,2,3\n", 1, "unrecognised header"),
        ("", 1, "the file is empty"),
    ],
)
def test_errors_name_the_line_and_reason(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ReplayFileError) as exc:
        load_bars(path)
    assert f"{path}:{line}:" in str(exc.value)
    assert reason in str(exc.value)


def test_missing_file_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(ReplayFileError, match="does not exist"):
        load_bars(tmp_path / "nope.csv")
    with pytest.raises(ReplayFileError, match="no bars"):
        load_bars(_write(tmp_path, "date,symbol,open,high,low,close,volume\n"))
