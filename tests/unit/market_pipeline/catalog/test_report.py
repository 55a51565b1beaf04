"""The validation report: every registered check's expected and actual numbers, gates, freshness."""

from __future__ import annotations

from datetime import UTC, datetime

from market_pipeline.catalog import report as validation

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
END = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


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
        "stale_seconds": "0",
        "newest_event_time": "2026-11-25 10:04:59.000",
    }
    return {**stats, **overrides}


def test_report_passes_on_clean_interval():
    report = validation.build_report("ticks", START, END, _summary(10), _stats(), {}, {"bars": 3, "problems": []})
    assert report["status"] == "passed", report
    assert report["interval_end"] == "2026-11-25T10:05:00Z"
    assert {c["name"] for c in report["checks"]} >= {"row_count_matches_manifests", "bid_not_above_ask", "freshness"}


def test_report_fails_with_numbers_on_mismatch_and_bad_rows():
    report = validation.build_report(
        "ticks", START, END, _summary(10), _stats(row_count="11", bid_above_ask="2"), {}, None
    )
    assert report["status"] == "failed"
    failed = {c["name"]: c for c in report["checks"] if not c["passed"]}
    assert failed["row_count_matches_manifests"]["expected"] == 10
    assert failed["row_count_matches_manifests"]["actual"] == 11
    assert failed["bid_not_above_ask"]["actual"] == 2
    summary = validation.failure_summary(report)
    assert "2026-11-25T10:00:00Z" in summary and "expected 10, got 11" in summary


def test_report_fails_on_stale_ticks_and_failed_gate_tasks():
    stale = validation.build_report("ticks", START, END, _summary(10), _stats(stale_seconds="2700"), {}, None)
    assert [c["name"] for c in stale["checks"] if not c["passed"]] == ["freshness"]
    gated = validation.build_report(
        "ticks", START, END, _summary(10), _stats(), {"check_price_positive": "failed"}, None
    )
    assert gated["status"] == "failed"
    assert gated["failed_tasks"] == ["check_price_positive"]


def test_empty_interval_passes():
    report = validation.build_report(
        "ticks", START, END, _summary(0), _stats(row_count="0", newest_event_time=None), {}, None
    )
    assert report["status"] == "passed"
