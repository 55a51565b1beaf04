"""Trino's types, coercions and literal types, as the analyzer models them (no services)."""

from __future__ import annotations

import pytest

from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis.literals import decimal_type, number_type, split_zone
from local_aws.athena.sql.coercion import arithmetic, can_coerce, super_type


def test_typeof_text_is_trinos() -> None:
    assert T.decimal(12, 2).display() == "decimal(12,2)"
    assert T.varchar(3).display() == "varchar(3)"
    assert T.timestamp_tz(3).display() == "timestamp(3) with time zone"
    assert T.map_of(T.VARCHAR, T.INTEGER).display() == "map(varchar, integer)"
    assert T.row([("exchange", T.VARCHAR), ("year", T.INTEGER)]).display() == "row(exchange varchar, year integer)"
    assert T.array(T.row([(None, T.INTEGER), (None, T.VARCHAR)])).display() == "array(row(integer, varchar))"


def test_column_info_is_athenas() -> None:
    assert T.decimal(12, 2).column_info() == ("decimal", 12, 2)
    assert T.VARCHAR.column_info() == ("varchar", 2147483647, 0)
    assert T.BIGINT.column_info() == ("bigint", 19, 0)
    assert T.timestamp(3).column_info() == ("timestamp", 3, 0)
    assert T.array(T.VARCHAR).column_info()[0] == "array"


@pytest.mark.parametrize(
    ("hive", "trino"),
    [
        ("string", "varchar"),
        ("int", "integer"),
        ("float", "real"),
        ("decimal(12,2)", "decimal(12,2)"),
        ("timestamp", "timestamp(3)"),
        ("array<string>", "array(varchar)"),
        ("map<string,int>", "map(varchar, integer)"),
        ("struct<exchange:string,year:int>", "row(exchange varchar, year integer)"),
    ],
)
def test_glue_types_read_as_trino_types(hive: str, trino: str) -> None:
    assert T.parse_hive(hive).display() == trino
    assert T.parse_hive(T.hive_name(T.parse_hive(hive))).display() == trino


def test_common_super_types() -> None:
    assert super_type(T.INTEGER, T.BIGINT) == T.BIGINT
    assert super_type(T.INTEGER, T.decimal(2, 1)) == T.decimal(11, 1)
    assert super_type(T.varchar(1), T.varchar(2)) == T.varchar(2)
    assert super_type(T.UNKNOWN, T.INTEGER) == T.INTEGER
    assert super_type(T.DATE, T.timestamp(3)) == T.timestamp(3)
    assert super_type(T.VARCHAR, T.INTEGER) is None
    assert can_coerce(T.INTEGER, T.decimal(10, 0)) and not can_coerce(T.BIGINT, T.decimal(10, 0))
    assert not can_coerce(T.varchar(12), T.INTEGER)


def test_decimal_arithmetic_types() -> None:
    assert arithmetic("+", T.decimal(3, 2), T.decimal(4, 3)) == T.decimal(5, 3)
    assert arithmetic("*", T.decimal(3, 2), T.decimal(2, 1)) == T.decimal(5, 3)
    assert arithmetic("/", T.decimal(3, 2), T.decimal(1, 0)) == T.decimal(3, 2)
    assert arithmetic("/", T.decimal(1, 0), T.decimal(3, 2)) == T.decimal(5, 2)
    assert arithmetic("%", T.decimal(2, 1), T.decimal(1, 0)) == T.decimal(2, 1)
    assert arithmetic("*", T.decimal(12, 2), T.INTEGER) == T.decimal(22, 2)
    assert arithmetic("+", T.INTEGER, T.DOUBLE) == T.DOUBLE


def test_literal_types() -> None:
    assert number_type("1", None) == T.INTEGER
    assert number_type("2147483648", None) == T.BIGINT
    assert number_type("1.5e0", None) == T.DOUBLE
    assert number_type("1.25", None) == T.decimal(3, 2)
    assert decimal_type("0000012345.1234500000", None) == T.decimal(20, 10)
    assert decimal_type("0", None) == T.decimal(1, 0)


def test_zoned_literal_text() -> None:
    assert split_zone("2026-11-25 10:00:00.000 UTC") == ("2026-11-25 10:00:00.000", "UTC")
    assert split_zone("2026-11-25 10:00:00.000 America/New_York") == ("2026-11-25 10:00:00.000", "America/New_York")
    assert split_zone("2026-11-25 10:00:00.000 +05:30") == ("2026-11-25 10:00:00.000", "+05:30")
    assert split_zone("2026-11-25 10:00:00.000") == ("2026-11-25 10:00:00.000", None)
