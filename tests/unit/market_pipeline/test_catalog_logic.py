"""Catalog-side logic without services: SQL names, partition predicates, bars, the report."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from market_pipeline import catalog, lake, validation
from market_pipeline.bars import compare_bars, compute_bars
from market_pipeline.settings import PipelineSettings
from market_pipeline.topic import TopicSpec

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
END = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


def test_partition_predicate_selects_exact_partitions():
    sql = catalog.partition_predicate([("2026-11-25", "10"), ("2026-11-25", "09"), ("2026-11-25", "10")])
    assert sql == "(dt = '2026-11-25' AND \"hour\" = '09') OR (dt = '2026-11-25' AND \"hour\" = '10')"
    assert catalog.partition_predicate([]) == "1 = 0"


@pytest.mark.parametrize("bad", [("2026-11-25' OR 1=1 --", "10"), ("2026-11-25", "24"), ("2026-11-25", "1")])
def test_partition_predicate_rejects_injection_and_bad_values(bad):
    with pytest.raises(ValueError):
        catalog.partition_predicate([bad])


@pytest.mark.parametrize("name", ["Ticks", "ticks; drop table x", "1abc", "a-b", ""])
def test_identifiers_are_validated(name):
    with pytest.raises(ValueError):
        catalog.checked_identifier(name)


def test_lake_sql_formats_intervals():
    names = catalog.LakeSql.from_settings(PipelineSettings())
    assert names.qualified("ticks") == "stock_market.ticks"
    assert names.ts(END) == "2026-11-25 10:05:00.000"
    assert (names.dt(START), names.hour(START), names.window(START)) == ("2026-11-25", "10", "1000")


def test_lake_sql_rejects_bad_bucket(monkeypatch):
    monkeypatch.setenv("PIPELINE_BUCKET", "Bad_Bucket")
    with pytest.raises(ValueError, match="bucket"):
        catalog.LakeSql.from_settings(PipelineSettings())


def test_interval_minutes_must_divide_an_hour(monkeypatch):
    monkeypatch.setenv("PIPELINE_INTERVAL_MINUTES", "7")
    with pytest.raises(ValueError, match="PIPELINE_INTERVAL_MINUTES"):
        PipelineSettings()
    monkeypatch.setenv("PIPELINE_INTERVAL_MINUTES", "1")
    assert PipelineSettings().interval_cron == "*/1 * * * *"


def test_first_row_skips_the_header_row():
    result = {
        "ResultSet": {
            "ResultSetMetadata": {"ColumnInfo": [{"Name": "row_count"}, {"Name": "newest"}]},
            "Rows": [
                {"Data": [{"VarCharValue": "row_count"}, {"VarCharValue": "newest"}]},
                {"Data": [{"VarCharValue": "42"}, {}]},
            ],
        }
    }
    assert catalog.first_row(result) == {"row_count": "42", "newest": None}


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


def _summary(rows: int) -> dict:
    return {"rows": rows, "messages": rows, "dlq": 0, "windows": ["_manifests/ticks/2026-11-25T10:05:00Z.json"]}


def _stats(**overrides) -> dict:
    stats = {
        "row_count": "10",
        "duplicate_offsets": "0",
        "null_symbol_or_price": "0",
        "non_positive_price": "0",
        "bid_above_ask": "0",
        "outside_partition": "0",
        "newest_event_time": "2026-11-25 10:04:59.000",
    }
    return {**stats, **overrides}


def test_report_passes_on_clean_interval():
    report = validation.build_report("ticks", START, END, _summary(10), _stats(), {}, {"bars": 3, "problems": []}, 15)
    assert report["status"] == "passed", report
    assert report["interval_end"] == "2026-11-25T10:05:00Z"
    assert {c["name"] for c in report["checks"]} >= {"row_count_matches_manifests", "bid_not_above_ask", "freshness"}


def test_report_fails_with_numbers_on_mismatch_and_bad_rows():
    report = validation.build_report(
        "ticks", START, END, _summary(10), _stats(row_count="11", bid_above_ask="2"), {}, None, 15
    )
    assert report["status"] == "failed"
    failed = {c["name"]: c for c in report["checks"] if not c["passed"]}
    assert failed["row_count_matches_manifests"]["expected"] == 10
    assert failed["row_count_matches_manifests"]["actual"] == 11
    assert failed["bid_not_above_ask"]["actual"] == 2
    summary = validation.failure_summary(report)
    assert "2026-11-25T10:00:00Z" in summary and "expected 10, got 11" in summary


def test_report_fails_on_stale_ticks_and_failed_gate_tasks():
    stale = validation.build_report(
        "ticks", START, END, _summary(10), _stats(newest_event_time="2026-11-25 09:00:00.000"), {}, None, 15
    )
    assert [c["name"] for c in stale["checks"] if not c["passed"]] == ["freshness"]
    gated = validation.build_report(
        "ticks", START, END, _summary(10), _stats(), {"check_price_positive": "failed"}, None, 15
    )
    assert gated["status"] == "failed"
    assert gated["failed_tasks"] == ["check_price_positive"]


def test_empty_interval_passes():
    report = validation.build_report(
        "ticks", START, END, _summary(0), _stats(row_count="0", newest_event_time=None), {}, None, 15
    )
    assert report["status"] == "passed"


def test_crawler_config_targets_raw_only_and_matches_itself():
    settings = PipelineSettings()
    wanted = lake.crawler_config(settings)
    assert wanted["Targets"]["S3Targets"][0]["Path"] == "s3://stock-market-lake/raw/"
    current = {**wanted, "State": "READY", "Targets": {"S3Targets": wanted["Targets"]["S3Targets"], "JdbcTargets": []}}
    assert lake._matches(current, wanted)
    assert not lake._matches({**current, "DatabaseName": "other"}, wanted)


@pytest.mark.parametrize("kwargs", [{"partitions": 0}, {"replication": 0}, {"name": ""}])
def test_topic_spec_validation(kwargs):
    args = {"name": "t", "partitions": 3, "replication": 1, **kwargs}
    with pytest.raises(ValueError):
        TopicSpec(**args)
