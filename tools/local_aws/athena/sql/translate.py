"""Trino AST -> DuckDB SQL: sqlglot's generator plus the gaps patched here.

Function calls are rewritten by ``functions``; this module adds what depends on types (date
arithmetic that stays a date) and Athena's ``_colN`` names for unaliased output columns. Integer
division and the UTC session time zone are set on the DuckDB connection (``functions.SESSION_SETTINGS``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.functions import rewrite_call

WRITE = "duckdb"

_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _is_date_expr(node: exp.Expression, date_columns: set[str]) -> bool:
    """Best-effort static typing: does this Trino expression yield a DATE?"""
    if isinstance(node, exp.Paren):
        return _is_date_expr(node.this, date_columns)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.is_type(exp.DataType.Type.DATE)
    if isinstance(node, (exp.CurrentDate, exp.TsOrDsToDate, exp.StrToDate, exp.Date, exp.DateFromParts)):
        return True
    if isinstance(node, exp.Column):
        return node.name.lower() in date_columns
    if isinstance(node, (exp.DateAdd, exp.DateSub)):
        unit = (node.text("unit") or "DAY").upper()
        return unit in _DATE_UNITS and _is_date_expr(node.this, date_columns)
    return False


def _unit_name(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    if unit is None:
        return "DAY"
    return (unit.name if isinstance(unit, exp.Expression) else str(unit)).upper()


def _rewrite_date_arithmetic(node: exp.Expression, date_columns: set[str]) -> exp.Expression:
    """DuckDB's DATE + INTERVAL (and date_trunc of a date) is a TIMESTAMP; Trino's stays a DATE."""
    if (
        isinstance(node, (exp.DateAdd, exp.DateSub, exp.DateTrunc, exp.TimestampTrunc))
        and _unit_name(node) in _DATE_UNITS
        and _is_date_expr(node.this, date_columns)
    ):
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    return node


def name_output_columns(tree: exp.Expression) -> None:
    """Give unaliased computed columns Athena's names ``_col0``, ``_col1`` ... (by position)."""
    select: exp.Expression | None = tree
    while isinstance(select, (exp.Union, exp.Except, exp.Intersect)):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.unnest()
    if not isinstance(select, exp.Select):
        return
    for i, projection in enumerate(list(select.expressions)):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
            continue
        if isinstance(projection, exp.Dot):
            continue
        projection.replace(exp.alias_(projection.copy(), f"_col{i}", quoted=False))


def translate(tree: exp.Expression, date_columns: Iterable[str] = ()) -> str:
    """Generate DuckDB SQL for a (table-rewritten) Trino AST."""
    dates = {c.lower() for c in date_columns}
    out = tree.copy()
    # Reversed pre-order visits children before parents, so nested calls are rewritten too.
    for node in reversed(list(out.dfs())):
        new = _rewrite_date_arithmetic(rewrite_call(node), dates)
        if new is node:
            continue
        if node is out:
            out = new
        else:
            node.replace(new)
    try:
        return out.sql(dialect=WRITE)
    except Exception as err:  # sqlglot UnsupportedError and friends
        raise QueryFailed("NOT_SUPPORTED", str(err)) from err
