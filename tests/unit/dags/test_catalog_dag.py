"""The catalog DAG's checks come from the registry: a new data check is one registry entry.

The test registers one more check (as a fixture, never in the product) and finds it, with nothing else
edited, in the three places a check shows: a gate task of the DAG, a column of the validation_stats
query, and an entry of the validation report.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from market_pipeline.catalog import checks
from market_pipeline.catalog import report as reports
from tests.support import load_dag

NEW_CHECK = checks.bad_rows(
    "symbol_upper_case", "symbol <> upper(symbol)", "lower_case_symbols", "rows whose symbol is not upper case"
)


@pytest.fixture
def one_more_check(monkeypatch):
    monkeypatch.setattr(checks, "DATA_CHECKS", (*checks.DATA_CHECKS, NEW_CHECK))
    return NEW_CHECK


def test_the_dag_has_one_gate_per_registered_check():
    dag = load_dag("stock_market_catalog")
    gates = {t.task_id for t in dag.tasks if t.task_type == "SQLValueCheckOperator"}
    assert gates == {c.task_id for c in checks.registered()}
    stats = dag.get_task("validation_stats")
    for check in checks.registered():
        gate = dag.get_task(check.task_id)
        assert gate.sql == checks.gate_sql(check)
        assert gate.upstream_task_ids == {stats.task_id}
        assert "write_validation_report" in gate.downstream_task_ids and "create_bars_table" in gate.downstream_task_ids
    row_count = dag.get_task(checks.ROW_COUNT.task_id)
    assert row_count.pass_value == "{{ ti.xcom_pull(task_ids='interval_manifests')['rows'] }}"
    assert {dag.get_task(c.task_id).pass_value for c in checks.registered() if c is not checks.ROW_COUNT} == {
        "0"
    }  # stored as text


def test_a_new_check_is_one_registry_entry(one_more_check):
    dag = load_dag("stock_market_catalog")

    gate = dag.get_task(one_more_check.task_id)  # 1. a gate task, wired like the others
    assert gate.sql == checks.gate_sql(one_more_check) and "count_if(symbol <> upper(symbol))" in gate.sql
    assert gate.pass_value == "0"
    assert gate.upstream_task_ids == {"validation_stats"}
    assert {"write_validation_report", "create_bars_table"} <= gate.downstream_task_ids

    stats_sql = dag.get_task("validation_stats").query  # 2. a column of the stats query
    assert "count_if(symbol <> upper(symbol)) AS lower_case_symbols" in stats_sql

    stats = {c.column: "0" for c in checks.registered()} | {"row_count": "5", "lower_case_symbols": "2"}
    start, end = datetime(2026, 11, 25, 10, 0, tzinfo=UTC), datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    summary = {"rows": 5, "messages": 5, "dlq": 0, "windows": []}
    report = reports.build_report("ticks", start, end, summary, stats, {}, None)  # 3. a report entry
    (entry,) = [c for c in report["checks"] if c["name"] == "symbol_upper_case"]
    assert entry == {
        "name": "symbol_upper_case",
        "passed": False,
        "expected": 0,
        "actual": 2,
        "message": "2 rows whose symbol is not upper case",
    }
    assert report["status"] == "failed"
    assert "symbol_upper_case: expected 0, got 2" in reports.failure_summary(report)
