"""THE registry of data checks on an ingest interval: a new check is one entry in ``DATA_CHECKS``.

Each check is one number computed by Athena over the interval's rows, with what it must equal. From
the registry come, with no second list anywhere:

- the catalog DAG's gates: one common.sql ``SQLValueCheckOperator`` per check (``check_<name>``),
  running :func:`gate_sql`, which fails the run and names the check;
- the ``validation_stats`` query (:func:`stats_sql`): every check's number in one row, one column each;
- the validation report (:mod:`market_pipeline.catalog.report`): expected, actual and meaning per check.

So the gate that fails a run and the report that explains it compute the same number the same way.

A measure is a Trino aggregate over ``w`` (the interval's rows, see ``sql/_interval_rows.sql``) or over
``source``, a relation built from ``w``; it may use the DAG's templates (``lake``, ``params``, the data
interval), since gates and stats are rendered by Airflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ZERO = "zero"
MANIFEST_ROWS = "manifest_rows"
_STATS_INDENT = "    "


@dataclass(frozen=True)
class DataCheck:
    """One data check: the number `measure` over the interval must equal `expected`."""

    name: str  # the report entry; the gate task is check_<name>
    measure: str  # a Trino aggregate expression over `source`
    column: str  # the measure's column in validation_stats, and the report's source of truth
    meaning: str  # what the number counts, for people reading a report or a failure
    expected: Literal["zero", "manifest_rows"] = ZERO  # 0, or the rows the interval's manifests wrote
    source: str = "w"  # the relation the measure aggregates; default: the interval's rows

    @property
    def task_id(self) -> str:
        return f"check_{self.name}"


def bad_rows(name: str, predicate: str, column: str, meaning: str) -> DataCheck:
    """A check that no row of the interval matches `predicate` (a Trino boolean over one row)."""
    return DataCheck(name, f"count_if({predicate})", column, meaning)


_FRESHNESS_LIMIT = (
    "TIMESTAMP '{{ lake.ts(data_interval_start) }}' - INTERVAL '{{ params.freshness_minutes | int }}' MINUTE"
)

# Reconciliation: Athena's count of the interval's rows against the manifests (also the report's athena_rows).
ROW_COUNT = DataCheck(
    "row_count_matches_manifests",
    "count(*)",
    "row_count",
    "rows counted by Athena; they must equal the rows the interval's manifests wrote (nothing lost, nothing doubled)",
    expected=MANIFEST_ROWS,
)

DATA_CHECKS: tuple[DataCheck, ...] = (
    ROW_COUNT,
    DataCheck(
        "no_duplicate_offsets",
        "count_if(copies > 1)",
        "duplicate_offsets",
        "Kafka (partition, offset) pairs stored more than once",
        source="(SELECT count(*) AS copies FROM w GROUP BY kafka_partition, kafka_offset) AS per_offset",
    ),
    bad_rows(
        "no_null_symbol_or_price",
        "symbol IS NULL OR price IS NULL",
        "null_symbol_or_price",
        "rows with a null symbol or price",
    ),
    bad_rows("price_positive", "price <= 0", "non_positive_price", "rows with price <= 0"),
    bad_rows("bid_not_above_ask", "bid > ask", "bid_above_ask", "rows with bid > ask"),
    bad_rows(
        "event_time_inside_partition",
        "format_datetime(event_time, 'yyyy-MM-dd') <> dt OR format_datetime(event_time, 'HH') <> \"hour\"",
        "outside_partition",
        "rows whose event time is outside their dt/hour folder (folders come from each tick's own UTC event time)",
    ),
    DataCheck(
        "freshness",
        "CASE WHEN count(*) = 0 THEN 0"
        f" WHEN max(event_time) >= {_FRESHNESS_LIMIT} THEN 0"
        f" ELSE date_diff('second', max(event_time), {_FRESHNESS_LIMIT}) END",
        "stale_seconds",
        "seconds by which the interval's newest tick is older than freshness_minutes before the interval start "
        "(0: fresh, or an empty interval)",
    ),
)

# Columns of validation_stats that are not checks: context for people reading the query's result.
INFO_COLUMNS: dict[str, str] = {
    "trades": "count_if(event_type = 'trade')",
    "symbols": "count(DISTINCT symbol)",
    "oldest_event_time": "min(event_time)",
    "newest_event_time": "max(event_time)",
}

_HEADER = "-- {what}, interval [{{{{ lake.ts(data_interval_start) }}}}, {{{{ lake.ts(data_interval_end) }}}})"
_INTERVAL_ROWS = "WITH w AS (\n    SELECT * FROM {% include '_interval_rows.sql' %}\n)"


def registered() -> tuple[DataCheck, ...]:
    """The checks in force (read at call time, so a test can register one more)."""
    names = [c.name for c in DATA_CHECKS]
    columns = [c.column for c in DATA_CHECKS] + list(INFO_COLUMNS)
    if len(set(names)) != len(names) or len(set(columns)) != len(columns):
        raise ValueError(f"data check names and columns must be unique: {names}, {columns}")
    return DATA_CHECKS


def gate_sql(check: DataCheck) -> str:
    """The gate's query (a Jinja template for the catalog DAG): one row, one number."""
    return "\n".join(
        [
            _HEADER.format(what=f"check {check.name}"),
            f"-- {check.meaning}",
            _INTERVAL_ROWS,
            f"SELECT {check.measure}",
            f"FROM {check.source}",
        ]
    )


def stats_sql(checks: Sequence[DataCheck] | None = None) -> str:
    """The validation_stats query (a Jinja template): every check's number and the info columns, one row."""
    columns = [f"{_stats_expression(c)} AS {c.column}" for c in (registered() if checks is None else checks)]
    columns += [f"{expression} AS {name}" for name, expression in INFO_COLUMNS.items()]
    return "\n".join(
        [
            _HEADER.format(what="validation statistics"),
            "-- one row: every data check's number (catalog/checks.py), which the validation report is built from",
            _INTERVAL_ROWS,
            "SELECT",
            ",\n".join(_STATS_INDENT + column for column in columns),
            "FROM w",
        ]
    )


def _stats_expression(check: DataCheck) -> str:
    if check.source == "w":
        return check.measure
    return f"(SELECT {check.measure} FROM {check.source})"
