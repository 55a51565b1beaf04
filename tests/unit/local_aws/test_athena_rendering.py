"""Result values as Athena prints them, chosen by the Trino type (no services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from local_aws.athena.rendering import java_double, java_float, render
from local_aws.athena.sql import types as T


def test_doubles_and_reals_print_as_java() -> None:
    assert [java_double(x) for x in (3.5, 1e7, 0.0001, 2.0, 1795600800.0)] == [
        "3.5",
        "1.0E7",
        "1.0E-4",
        "2.0",
        "1.7956008E9",
    ]
    assert java_double(float("nan")) == "NaN" and java_double(float("-inf")) == "-Infinity"
    assert java_float(1.5) == "1.5" and java_float(0.1) == "0.1"


def test_values_by_type() -> None:
    assert render(Decimal("1000.0"), T.decimal(12, 2)) == "1000.00"
    assert render(dt.datetime(2026, 11, 25, 10, 45, 0, 500000), T.timestamp(3)) == "2026-11-25 10:45:00.500"
    utc = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    assert render(utc, T.timestamp_tz(3, "America/New_York")) == "2026-11-25 05:00:00.000 America/New_York"
    assert render(utc, T.timestamp_tz(3, "+05:30")) == "2026-11-25 15:30:00.000 +05:30"
    assert render(dt.timedelta(days=2, hours=3), T.INTERVAL_DAY_SECOND) == "2 03:00:00.000"
    assert render(dt.timedelta(days=41 * 30), T.INTERVAL_YEAR_MONTH) == "3-5"
    assert render(dt.time(13, 5, 9, 123000), T.time(3)) == "13:05:09.123"
    assert render(None, T.INTEGER) is None


def test_nested_values() -> None:
    assert render([1, None], T.array(T.INTEGER)) == "[1, null]"
    assert render([Decimal("1"), Decimal("1.2")], T.array(T.decimal(2, 1))) == "[1.0, 1.2]"
    assert render({"rank": 1}, T.map_of(T.VARCHAR, T.INTEGER)) == "{rank=1}"
    listing = T.row([("exchange", T.VARCHAR), ("year", T.INTEGER)])
    assert render({"exchange": "XNAS", "year": 1980}, listing) == "{exchange=XNAS, year=1980}"
