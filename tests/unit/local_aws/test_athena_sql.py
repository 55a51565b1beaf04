"""Unit tests of the Athena (Trino) -> DuckDB translation: only the gaps we patch over sqlglot.

Each translated statement is also executed in DuckDB with the session settings the engine uses,
so the tests check Trino *results*, not just SQL text.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from local_aws.athena.errors import QueryFailed
from local_aws.athena.results import athena_type, java_double, render
from local_aws.athena.sql.analysis import catalog_tables, partition_conjuncts
from local_aws.athena.sql.functions import SESSION_SETTINGS, joda_to_strftime
from local_aws.athena.sql.parse import parse_statement, statement_type, substitute_parameters
from local_aws.athena.sql.translate import name_output_columns, translate


def translate_text(sql: str, date_columns: tuple[str, ...] = ()) -> str:
    """Parse, name output columns and translate, as the engine does for a query without tables."""
    tree = parse_statement(sql)
    name_output_columns(tree)
    return translate(tree, date_columns)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for setting in SESSION_SETTINGS:
        connection.execute(setting)
    return connection


def run(con: duckdb.DuckDBPyConnection, sql: str, date_columns: tuple[str, ...] = ()) -> tuple[list, list]:
    rel = con.execute(translate_text(sql, date_columns))
    return [d[0] for d in rel.description], rel.fetchall()


def test_integer_division_like_trino(con) -> None:
    _, rows = run(con, "SELECT 7/2, -7/2, 7.0/2, CAST(7 AS DOUBLE)/2")
    assert rows == [(3, -3, 3.5, 3.5)]  # Trino truncates toward zero


def test_unaliased_columns_are_named_col_n(con) -> None:
    names, _ = run(con, "SELECT 1 AS one, 2, count(*), x FROM (VALUES 1) t(x) GROUP BY x")
    assert names == ["one", "_col1", "_col2", "x"]


def test_date_add_on_a_date_stays_a_date(con) -> None:
    _, rows = run(
        con,
        "SELECT date_add('day', 1, DATE '2024-01-31'), date_add('month', 1, CAST('2024-01-31' AS DATE)), "
        "date_add('hour', 1, TIMESTAMP '2024-01-01 23:00:00'), date_add('day', 1, d) FROM (VALUES DATE '2024-02-28') t(d)",
        date_columns=("d",),
    )
    assert rows == [(dt.date(2024, 2, 1), dt.date(2024, 2, 29), dt.datetime(2024, 1, 2, 0, 0), dt.date(2024, 2, 29))]


def test_date_trunc_and_unixtime(con) -> None:
    _, rows = run(
        con,
        "SELECT date_trunc('hour', TIMESTAMP '2024-01-01 10:11:12'), date_trunc('month', DATE '2024-03-05'), "
        "to_unixtime(TIMESTAMP '2024-01-01 00:00:00'), from_unixtime(0)",
    )
    assert rows[0][0] == dt.datetime(2024, 1, 1, 10)
    assert rows[0][1] == dt.date(2024, 3, 1)
    assert rows[0][2] == 1704067200.0
    assert rows[0][3] == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_joda_and_mysql_patterns(con) -> None:
    _, rows = run(
        con,
        "SELECT format_datetime(TIMESTAMP '2024-01-02 03:04:05.678', 'yyyy-MM-dd HH:mm:ss.SSS'), "
        "parse_datetime('2024-01-02 03:04', 'yyyy-MM-dd HH:mm'), "
        "date_format(TIMESTAMP '2024-01-02 03:04:05', '%Y-%m-%d %H:%i:%s'), date_parse('20240102', '%Y%m%d')",
    )
    assert rows == [
        ("2024-01-02 03:04:05.678", dt.datetime(2024, 1, 2, 3, 4), "2024-01-02 03:04:05", dt.datetime(2024, 1, 2))
    ]


def test_joda_literal_text() -> None:
    assert joda_to_strftime("yyyy-MM-dd'T'HH") == "%Y-%m-%dT%H"


def test_trino_aggregates(con) -> None:
    _, rows = run(
        con,
        "SELECT approx_distinct(x), arbitrary(x) IS NOT NULL, count_if(x > 1), max_by(s, x), min_by(s, x), "
        "approx_percentile(x, 0.5) FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) t(x, s)",
    )
    assert rows == [(3, True, 2, "c", "a", 2)]


def test_utc_session_time_zone(con) -> None:
    _, rows = run(con, "SELECT CAST(from_unixtime(0) AS VARCHAR)")
    assert rows[0][0].startswith("1970-01-01 00:00:00")


def test_window_and_cte(con) -> None:
    _, rows = run(
        con,
        "WITH t AS (SELECT * FROM (VALUES ('a', 1), ('a', 2), ('b', 5)) v(s, x)) "
        "SELECT s, x, sum(x) OVER (PARTITION BY s ORDER BY x) AS run FROM t ORDER BY s, x",
    )
    assert rows == [("a", 1, 1), ("a", 2, 3), ("b", 5, 5)]


def test_parameters_are_substituted_as_literals() -> None:
    sql = substitute_parameters("SELECT ?, '?', ? -- ?", ["1", "'it''s'"])
    assert sql == "SELECT 1, '?', 'it''s' -- ?"
    with pytest.raises(QueryFailed, match="not a literal"):
        substitute_parameters("SELECT ?", ["1; DROP TABLE x"])
    with pytest.raises(QueryFailed, match="Incorrect number of parameters"):
        substitute_parameters("SELECT ?, ?", ["1"])


def test_syntax_error_has_position() -> None:
    with pytest.raises(QueryFailed) as info:
        parse_statement("SELECT * FROM t WHERE")
    assert info.value.name == "SYNTAX_ERROR"
    assert info.value.reason.startswith("SYNTAX_ERROR: line 1:")


def test_statement_types() -> None:
    assert statement_type("SELECT 1") == "DML"
    assert statement_type("-- c\nCREATE TABLE x WITH (format='PARQUET') AS SELECT 1") == "DML"
    assert statement_type("CREATE EXTERNAL TABLE x (a int)") == "DDL"
    assert statement_type("MSCK REPAIR TABLE x") == "DDL"
    assert statement_type("SHOW TABLES") == "UTILITY"
    assert statement_type("INSERT INTO x SELECT 1") == "DML"


def test_catalog_tables_skip_ctes() -> None:
    tree = parse_statement("WITH c AS (SELECT * FROM db.a) SELECT * FROM c JOIN awsdatacatalog.db.b ON true")
    assert sorted((t.catalog, t.db, t.name) for t in catalog_tables(tree)) == [
        ("", "db", "a"),
        ("awsdatacatalog", "db", "b"),
    ]


def test_partition_conjuncts_only_null_rejecting_partition_predicates() -> None:
    tree = parse_statement(
        "SELECT * FROM db.t AS t JOIN db.u AS u ON t.k = u.k WHERE t.dt = '2024-01-01' AND t.hour IN ('01', '02') "
        "AND u.dt = 'x' AND (t.dt IS NULL OR t.dt = 'y') AND t.price > 1"
    )
    t = catalog_tables(tree)[0]
    assert [c.sql() for c in partition_conjuncts(t, ["dt", "hour"])] == [
        "dt = '2024-01-01'",
        "hour IN ('01', '02')",
    ]


def test_value_rendering_like_athena() -> None:
    assert java_double(3.5) == "3.5"
    assert java_double(1e7) == "1.0E7"
    assert java_double(0.0001) == "1.0E-4"
    assert java_double(2.0) == "2.0"
    assert render(None) is None
    assert render(True) == "true"
    assert render(dt.datetime(2024, 1, 1, 1, 2, 3, 456000)) == "2024-01-01 01:02:03.456"
    assert render([1, None]) == "[1, null]"
    assert render({"a": 1}) == "{a=1}"
    assert athena_type("HUGEINT") == ("bigint", 19, 0)
    assert athena_type("DECIMAL(10,2)") == ("decimal", 10, 2)
    assert athena_type("VARCHAR[]")[0] == "array"
    assert athena_type("STRUCT(a INTEGER)")[0] == "row"


def test_count_if_over_no_rows_is_zero_as_in_trino() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    query = translate_text("SELECT count_if(x > 1) FROM t")
    assert con.execute(query).fetchall() == [(0,)]
    con.execute("INSERT INTO t VALUES (1), (2), (3)")
    assert con.execute(query).fetchall() == [(2,)]
