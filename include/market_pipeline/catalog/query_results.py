"""Rows of Athena's GetQueryResults, keyed by column name (values as Athena's text, None for NULL).

Why one function: the first row of a SELECT's first result page repeats the column names; skipping it
in two places with two rules is how a report ends up counting its own header.
"""

from __future__ import annotations

from typing import Any


def page_rows(page: dict[str, Any], *, first_page: bool) -> list[dict[str, str | None]]:
    """The data rows of one GetQueryResults page; on the first page the header row is skipped."""
    result_set = page["ResultSet"]
    columns = [c["Name"] for c in result_set["ResultSetMetadata"]["ColumnInfo"]]
    rows = result_set.get("Rows", [])
    if first_page and rows and [cell.get("VarCharValue") for cell in rows[0]["Data"]] == columns:
        rows = rows[1:]
    return [{name: cell.get("VarCharValue") for name, cell in zip(columns, row["Data"], strict=False)} for row in rows]


def first_row(page: dict[str, Any]) -> dict[str, str | None] | None:
    """The first data row of a query's first result page, or None when it returned no rows."""
    rows = page_rows(page, first_page=True)
    return rows[0] if rows else None
