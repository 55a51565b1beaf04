"""Translated queries run on the engine's DuckDB database give Trino's answers and Trino's error names
(no services: queries without catalog tables, through the analyzer, the translator and DuckDB)."""

from __future__ import annotations

import duckdb
import pytest

from local_aws.athena.engine.context import QueryContext
from local_aws.athena.engine.database import DATABASE
from local_aws.athena.engine.duckdb_errors import query_failed
from local_aws.athena.errors import QueryFailed
from local_aws.athena.rendering import render
from local_aws.athena.sql.translate import translate_query
from tests.unit.local_aws.athena_fakes import analyze


def run(sql: str) -> list[str | None]:
    """The first row, rendered as Athena renders it."""
    analysis = analyze(sql)
    translation = translate_query(analysis.tree)
    assert not translation.tables, "only queries without catalog tables run here"
    con = DATABASE.connect()
    try:
        row = con.execute(translation.sql).fetchone()
    except duckdb.Error as err:
        raise query_failed(err, sql, QueryContext("q", None, None)) from err
    finally:
        con.close()
    assert row is not None
    return [render(v, f.type) for v, f in zip(row, analysis.fields, strict=True)]


def error_of(sql: str) -> str:
    with pytest.raises(QueryFailed) as info:
        run(sql)
    return info.value.error


def test_integer_semantics() -> None:
    assert run("SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3, typeof(7 / 2)") == ["3", "-3", "1", "-1", "integer"]
    assert error_of("SELECT 2147483647 + 1") == "NUMERIC_VALUE_OUT_OF_RANGE"
    assert error_of("SELECT 1 / 0") == "DIVISION_BY_ZERO"
    assert run("SELECT 1e0 / 0, 0e0 / 0, nan() = nan()") == ["Infinity", "NaN", "false"]


def test_decimal_semantics() -> None:
    assert run("SELECT DECIMAL '2.00' / DECIMAL '3', DECIMAL '1' / DECIMAL '0.50', round(DECIMAL '2.45', 1)") == [
        "0.67",
        "2.00",
        "2.50",
    ]
    assert run("SELECT avg(x) FROM (VALUES DECIMAL '1.00', DECIMAL '2.00', DECIMAL '2.00') AS t(x)") == ["1.67"]


def test_cast_semantics() -> None:
    assert run("SELECT CAST(2.5e0 AS bigint), CAST(-2.5e0 AS bigint), try_cast('4.2' AS integer)") == ["3", "-3", None]
    assert error_of("SELECT CAST('yes' AS boolean)") == "INVALID_CAST_ARGUMENT"
    assert error_of("SELECT CAST(300 AS tinyint)") == "NUMERIC_VALUE_OUT_OF_RANGE"
    assert run("SELECT CAST(TIMESTAMP '2026-11-25 10:45:00.500' AS varchar)") == ["2026-11-25 10:45:00.500"]


def test_try_turns_errors_into_null() -> None:
    assert run("SELECT try(1 / 0), try(ARRAY[1][5]), try(CAST('x' AS integer)), try(10 / 2)") == [None, None, None, "5"]


def test_collections() -> None:
    assert run("SELECT slice(ARRAY[1, 2, 3, 4], 2, 2), sequence(5, 1), array_distinct(ARRAY[3, 1, 3, 2])") == [
        "[2, 3]",
        "[5, 4, 3, 2, 1]",
        "[3, 1, 2]",
    ]
    assert error_of("SELECT ARRAY[1, 2, 3][5]") == "INVALID_FUNCTION_ARGUMENT"
    assert error_of("SELECT MAP(ARRAY['a'], ARRAY[1])['z']") == "INVALID_FUNCTION_ARGUMENT"
    assert run("SELECT split_part('a,b,c', ',', 4), regexp_extract('abc', '\\d+')") == [None, None]


def test_time_zones() -> None:
    assert run("SELECT TIMESTAMP '2026-11-25 10:00:00.000 UTC' AT TIME ZONE 'America/New_York'") == [
        "2026-11-25 05:00:00.000 America/New_York"
    ]
    assert run(
        "SELECT date_diff('hour', TIMESTAMP '2026-11-25 10:59:00.000', TIMESTAMP '2026-11-25 11:01:00.000')"
    ) == ["0"]
    assert run("SELECT DATE '2026-11-24' + INTERVAL '1' DAY, INTERVAL '3' YEAR + INTERVAL '5' MONTH") == [
        "2026-11-25",
        "3-5",
    ]


def test_json_functions_take_json_and_varchar() -> None:
    assert run(
        "SELECT json_extract(JSON '{\"a\": [1, 2]}', '$.a[0]'), json_extract_scalar('{\"a\": 1}', '$.a'), "
        "json_array_length(JSON '[1, 2]'), json_size(JSON '{\"x\": {\"a\": 1}}', '$.x')"
    ) == ["1", "1", "2", "1"]
