"""Statements as Athena reads them: routing, parameters, syntax errors with positions, and the partition
predicates the engine prunes with (no services)."""

from __future__ import annotations

import pytest

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.analysis.reads import catalog_tables, partition_conjuncts
from local_aws.athena.sql.library.zones import joda_to_strftime, mysql_to_strftime
from local_aws.athena.sql.parse import parse_statement, statement_type, substitute_parameters


def test_parameters_are_substituted_as_literals() -> None:
    sql = substitute_parameters("SELECT ?, '?', ? -- ?", ["1", "'it''s'"])
    assert sql == "SELECT 1, '?', 'it''s' -- ?"
    with pytest.raises(QueryFailed, match="not a literal"):
        substitute_parameters("SELECT ?", ["1; DROP TABLE x"])
    with pytest.raises(QueryFailed, match="Incorrect number of parameters"):
        substitute_parameters("SELECT ?, ?", ["1"])


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT * FROM t WHERE", "SYNTAX_ERROR: line 1:"),
        ("SELECT symbol, FROM ticks", "SYNTAX_ERROR: line 1:16: mismatched input 'FROM'"),
        ("SELECT `symbol` FROM ticks", "SYNTAX_ERROR"),
    ],
)
def test_syntax_errors(sql: str, reason: str) -> None:
    with pytest.raises(QueryFailed) as info:
        parse_statement(sql)
    assert info.value.reason.startswith(reason)


def test_hive_ddl_still_parses() -> None:
    tree = parse_statement("CREATE EXTERNAL TABLE x (`a` int) STORED AS PARQUET LOCATION 's3://b/x/'")
    assert tree.args.get("kind", "").upper() == "TABLE"


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
    assert [c.sql() for c in partition_conjuncts(t, ["dt", "hour"])] == ["dt = '2024-01-01'", "hour IN ('01', '02')"]


def test_date_patterns() -> None:
    assert joda_to_strftime("yyyy-MM-dd'T'HH") == ["%Y-%m-%dT%H"]
    assert joda_to_strftime("HH:mm Z") == ["%H:%M ", "\0Z"]
    assert mysql_to_strftime("%Y-%m-%d %H:%i:%s") == "%Y-%m-%d %H:%M:%S"
