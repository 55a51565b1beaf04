"""The analysis step: names resolved, types inferred, and what Trino rejects rejected with Athena's error
names and ``line L:C`` positions, before anything runs (no services; a fake catalog)."""

from __future__ import annotations

import pytest

from local_aws.athena.errors import QueryFailed
from tests.unit.local_aws.athena_fakes import analyze, output_types


def failure(sql: str) -> QueryFailed:
    with pytest.raises(QueryFailed) as info:
        analyze(sql)
    return info.value


def test_output_types_and_names() -> None:
    result = analyze(
        "SELECT t.symbol, count(*), sum(size) AS volume, listing.exchange FROM ticks t, symbols s "
        "GROUP BY t.symbol, listing.exchange"
    )
    assert result.names == ["symbol", "_col1", "volume", "exchange"]
    assert [f.type.display() for f in result.fields] == ["varchar", "bigint", "bigint", "varchar"]


def test_expression_types() -> None:
    assert output_types("SELECT 1.5 + 1.25, DECIMAL '2.00' / DECIMAL '3', notional * 2 FROM ticks") == [
        "decimal(4,2)",
        "decimal(3,2)",
        "decimal(22,2)",
    ]
    assert output_types("SELECT avg(notional), sum(notional), sum(kafka_partition) FROM ticks") == [
        "decimal(12,2)",
        "decimal(38,2)",
        "bigint",
    ]
    assert output_types("SELECT tags[1], attrs['rank'], transform(tags, t -> length(t)) FROM symbols") == [
        "varchar",
        "integer",
        "array(bigint)",
    ]
    assert output_types("SELECT event_time AT TIME ZONE 'America/New_York', from_unixtime(0) FROM ticks") == [
        "timestamp(3) with time zone",
        "timestamp(3) with time zone",
    ]


def test_zones_travel_with_the_type() -> None:
    fields = analyze(
        "SELECT event_time AT TIME ZONE 'America/New_York', TIMESTAMP '2026-01-01 00:00:00.000 +05:30' FROM ticks"
    ).fields
    assert [f.type.zone for f in fields] == ["America/New_York", "+05:30"]


@pytest.mark.parametrize(
    ("sql", "name", "message"),
    [
        (
            "SELECT count(*) FROM ticks WHERE dt = 20261125",
            "TYPE_MISMATCH",
            "line 1:34: Cannot apply operator: varchar = integer",
        ),
        (
            "SELECT count(*) FROM ticks WHERE size",
            "TYPE_MISMATCH",
            "WHERE clause must evaluate to a boolean: actual type bigint",
        ),
        (
            "SELECT symbol FROM ticks t JOIN symbols s ON t.symbol = s.symbol",
            "AMBIGUOUS_NAME",
            "line 1:8: Column 'symbol' is ambiguous",
        ),
        ("SELECT nope FROM ticks", "COLUMN_NOT_FOUND", "line 1:8: Column 'nope' cannot be resolved"),
        ("SELECT nosuch_fn(1)", "FUNCTION_NOT_FOUND", "Function 'nosuch_fn' not registered"),
        ("SELECT substr(42, 1)", "FUNCTION_NOT_FOUND", "Unexpected parameters (integer, integer) for function substr"),
        ("SELECT symbol, count(*) FROM ticks", "EXPRESSION_NOT_AGGREGATE", "'symbol' must be an aggregate expression"),
        ("SELECT symbol FROM ticks WHERE count(*) > 1", "EXPRESSION_NOT_SCALAR", "[count(*)]"),
        ("SELECT max(count(*)) FROM ticks", "NESTED_AGGREGATION", "inside aggregation 'max'"),
        ("SELECT row_number() FROM ticks", "MISSING_OVER", "row_number requires an OVER clause"),
        (
            "SELECT upper(symbol) AS u, count(*) FROM ticks GROUP BY u",
            "COLUMN_NOT_FOUND",
            "Column 'u' cannot be resolved",
        ),
        (
            "SELECT symbol FROM ticks ORDER BY 3",
            "INVALID_COLUMN_REFERENCE",
            "ORDER BY position 3 is not in select list",
        ),
        ("WITH a AS (SELECT 1 AS x), a AS (SELECT 2 AS x) SELECT * FROM a", "DUPLICATE_NAMED_QUERY", "'a'"),
        ("SELECT * FROM (VALUES (1, 2)) AS t(a)", "MISMATCHED_COLUMN_ALIASES", "1 entries"),
        ("SELECT CASE WHEN size > 10 THEN 1 ELSE 'small' END FROM ticks", "TYPE_MISMATCH", "All CASE results"),
        ("SELECT coalesce(size, 'none') FROM ticks", "TYPE_MISMATCH", "COALESCE"),
        ('SELECT count(*) FROM ticks WHERE symbol = "AAPL"', "COLUMN_NOT_FOUND", "Column 'aapl' cannot be resolved"),
        ("SELECT 1 UNION SELECT 1, 2", "TYPE_MISMATCH", "different number of fields"),
        ("SELECT DISTINCT symbol FROM ticks ORDER BY price", "EXPRESSION_NOT_IN_DISTINCT", "SELECT DISTINCT"),
        ("SELECT url_extract_host('http://x')", "NOT_SUPPORTED", "local Athena endpoint"),
    ],
)
def test_trino_rejections(sql: str, name: str, message: str) -> None:
    error = failure(sql)
    assert error.error == name
    assert message in error.reason


def test_grouping_keys_match_however_qualified() -> None:
    assert output_types("SELECT t.symbol, count(*) FROM ticks t GROUP BY symbol") == ["varchar", "bigint"]
    assert output_types("SELECT upper(symbol), count(*) FROM ticks GROUP BY 1") == ["varchar", "bigint"]


def test_order_by_output_alias_and_window_over_aggregate() -> None:
    assert output_types(
        "SELECT dt, sum(size) AS v, rank() OVER (ORDER BY sum(size) DESC) AS r FROM ticks GROUP BY dt ORDER BY r, v"
    ) == ["varchar", "bigint", "bigint"]


def test_hidden_columns_are_not_in_star_but_resolve_by_name() -> None:
    assert len(analyze("SELECT * FROM ticks").fields) == 12
    assert output_types('SELECT "$path", "$file_size", "$file_modified_time" FROM ticks') == [
        "varchar",
        "bigint",
        "timestamp(3) with time zone",
    ]


def test_views_expand() -> None:
    assert analyze("SELECT symbol, sum(size) FROM trades GROUP BY symbol").names == ["symbol", "_col1"]


def test_unnest_expands_rows_and_maps() -> None:
    assert output_types("SELECT * FROM UNNEST(MAP(ARRAY['a'], ARRAY[1])) AS t(k, v)") == ["varchar(1)", "integer"]
    assert output_types(
        "SELECT n, s FROM UNNEST(zip(ARRAY[1], ARRAY['a'])) WITH ORDINALITY AS t(n, s, o) ORDER BY o"
    ) == ["integer", "varchar(1)"]
