"""What the local Athena cannot answer as Athena does fails loudly, as NOT_SUPPORTED naming the local
endpoint and the feature, instead of answering differently (invariant 7: local answers are AWS answers,
or fail loudly as unsupported)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.local_aws.athena_helpers import Lake, build_lake, query, run


@pytest.fixture(scope="module")
def lake(aws_client: Callable[..., Any]) -> Lake:
    suffix = uuid.uuid4().hex[:8]
    return build_lake(aws_client, f"athena-ns-{suffix}", f"athena_ns_{suffix}")


@pytest.fixture(scope="module")
def athena(aws_client: Callable[..., Any]) -> Any:
    return aws_client("athena")


@pytest.mark.parametrize(
    ("sql", "feature"),
    [
        ("SELECT url_extract_host('https://example.com/a')", "Function 'url_extract_host'"),
        ("SELECT from_iso8601_timestamp(dt || 'T00:00:00+01:00') FROM ticks", "zone"),
        ("SELECT date_trunc(symbol, event_time) FROM ticks", "date_trunc with a unit that is not a constant"),
        (
            "SELECT format_datetime(event_time, symbol) FROM ticks",
            "format_datetime with a pattern that is not a constant",
        ),
        (
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t",
            "WITH RECURSIVE",
        ),
        ("SELECT count(*) FROM ticks TABLESAMPLE BERNOULLI (50)", "TABLESAMPLE"),
        ("SELECT regexp_replace(symbol, symbol, x -> x[1]) FROM ticks", "a constant pattern"),
        ("EXPLAIN SELECT count(*) FROM ticks", "EXPLAIN SELECT statements"),
        ("SHOW CREATE TABLE ticks", "SHOW CREATE statements"),
    ],
)
def test_fails_loudly(athena: Any, lake: Lake, sql: str, feature: str) -> None:
    execution = run(athena, sql, lake.output, QueryExecutionContext={"Database": lake.database})
    status = execution["Status"]
    assert status["State"] == "FAILED", f"{sql!r} answered instead of failing loudly"
    assert status["StateChangeReason"].startswith("NOT_SUPPORTED: ")
    assert "local Athena endpoint" in status["StateChangeReason"]
    assert feature in status["StateChangeReason"]


def test_zones_that_differ_by_row_still_compare_and_convert(athena: Any, lake: Lake) -> None:
    """Only printing the zone is refused: instants compare and convert as in Athena."""
    result = query(
        athena,
        "SELECT count(*), min(to_unixtime(from_iso8601_timestamp(dt || 'T00:00:00+01:00'))) FROM ticks "
        "WHERE from_iso8601_timestamp(dt || 'T00:00:00+01:00') < TIMESTAMP '2024-01-02 00:00:00.000 UTC'",
        lake.output,
        QueryExecutionContext={"Database": lake.database},
    )
    # 2024-01-01T00:00+01:00 is 2023-12-31 23:00 UTC (epoch 1704063600) and 2024-01-02T00:00+01:00 is
    # before 2024-01-02 00:00 UTC too: all 12 rows of the three registered partitions (4 rows each)
    assert result[1] == ["12", "1.7040636E9"]
