"""Rows of Athena's GetQueryResults: the header row of a SELECT's first page is skipped, once."""

from __future__ import annotations

from market_pipeline.catalog.query_results import first_row, page_rows


def _page(rows):
    return {
        "ResultSet": {
            "ResultSetMetadata": {"ColumnInfo": [{"Name": "row_count"}, {"Name": "newest"}]},
            "Rows": [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]} for row in rows],
        }
    }


def test_first_row_skips_the_header_row():
    result = _page([["row_count", "newest"], ["42", None]])
    assert first_row(result) == {"row_count": "42", "newest": None}


def test_only_the_first_page_has_a_header():
    page = _page([["row_count", "newest"], ["1", "x"]])
    assert page_rows(page, first_page=True) == [{"row_count": "1", "newest": "x"}]
    assert page_rows(page, first_page=False)[0] == {"row_count": "row_count", "newest": "newest"}
    assert first_row(_page([["row_count", "newest"]])) is None
