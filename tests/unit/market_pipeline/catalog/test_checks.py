"""The data-check registry: what it holds, and that the SQL generated from it renders and parses as Trino."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
import pytest
import sqlglot
from sqlglot import exp

from market_pipeline.catalog import checks
from market_pipeline.catalog.sql_names import SQL_DIR, LakeSql
from market_pipeline.settings import PipelineSettings

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
END = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)

# The gates the catalog DAG has always had (task ids users see in the UI, the report's entries).
KNOWN = {
    "row_count_matches_manifests",
    "no_duplicate_offsets",
    "no_null_symbol_or_price",
    "price_positive",
    "bid_not_above_ask",
    "event_time_inside_partition",
    "freshness",
}


class FakeTaskInstance:
    def xcom_pull(self, task_ids: str) -> dict[str, Any]:
        assert task_ids == "interval_manifests"
        return {"partition_predicate": "(dt = '2026-11-25' AND \"hour\" = '10')", "rows": 7}


def render(template: str) -> str:
    """Render a generated template the way Airflow does: SQL_DIR on the search path, the DAG's macros."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(SQL_DIR)), undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(
        lake=LakeSql.from_settings(PipelineSettings()),
        data_interval_start=START,
        data_interval_end=END,
        params={"freshness_minutes": 15},
        ti=FakeTaskInstance(),
    )


def test_the_registry_holds_the_known_checks_with_unique_names_and_columns():
    registered = checks.registered()
    assert {c.name for c in registered} == KNOWN
    assert len({c.column for c in registered}) == len(registered)
    assert [c.name for c in registered if c.expected == checks.MANIFEST_ROWS] == ["row_count_matches_manifests"]
    assert all(c.task_id == f"check_{c.name}" and c.meaning for c in registered)


def test_duplicate_names_are_refused(monkeypatch):
    monkeypatch.setattr(checks, "DATA_CHECKS", (*checks.DATA_CHECKS, checks.DATA_CHECKS[2]))
    with pytest.raises(ValueError, match="unique"):
        checks.registered()


@pytest.mark.parametrize("check", checks.DATA_CHECKS, ids=lambda c: c.name)
def test_each_gate_is_one_trino_query_for_one_number_over_the_interval(check):
    sql = render(checks.gate_sql(check))
    (statement,) = sqlglot.parse(sql, read="trino")
    assert len(statement.expressions) == 1, "a gate returns one number"
    assert "stock_market.ticks" in sql and "ingested_at >= TIMESTAMP '2026-11-25 10:00:00.000'" in sql
    assert f"check {check.name}, interval [2026-11-25 10:00:00.000, 2026-11-25 10:05:00.000)" in sql


def test_the_stats_query_has_one_column_per_check_then_the_info_columns():
    (statement,) = sqlglot.parse(render(checks.stats_sql()), read="trino")
    assert statement.named_selects == [c.column for c in checks.DATA_CHECKS] + list(checks.INFO_COLUMNS)
    # Each check's measure is the same expression in its gate and in the stats row.
    for check, column in zip(checks.DATA_CHECKS, statement.expressions, strict=False):
        gate = sqlglot.parse_one(render(checks.gate_sql(check)), read="trino")
        in_gate = gate.expressions[0].sql("trino")
        in_stats = column.this
        if isinstance(in_stats, exp.Subquery):  # a measure over its own source: a scalar subquery
            in_stats = in_stats.this.expressions[0]
        assert in_stats.sql("trino") == in_gate, check.name
