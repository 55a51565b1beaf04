"""The Airflow amazon provider against the local Athena: AthenaSQLHook (PyAthena), AthenaOperator and
the common.sql check operators, configured only through connections (as the DAGs will be)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.local_aws.athena_helpers import Lake, build_lake


def athena_connections(endpoint: str, lake: Lake) -> dict[str, str]:
    """The two connections that make the provider talk to the local endpoint.

    AthenaSQLHook merges the *athena* connection into the *aws* one: login/password/schema come
    from athena_default, extras are merged (aws_default's win), and every merged extra is passed
    to ``pyathena.connect`` - so keep the extras to keys PyAthena/boto3 accept.
    """
    aws = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"region_name": "us-east-1", "endpoint_url": endpoint},
    }
    athena = {
        "conn_type": "athena",
        "login": "testing",
        "password": "testing",
        "schema": lake.database,
        "extra": {
            "region_name": "us-east-1",
            "endpoint_url": endpoint,
            "s3_staging_dir": lake.output,
            "work_group": "primary",
        },
    }
    return {"AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws), "AIRFLOW_CONN_ATHENA_DEFAULT": json.dumps(athena)}


@pytest.fixture(scope="module")
def lake(aws_client: Callable[..., Any]) -> Lake:
    suffix = uuid.uuid4().hex[:8]
    return build_lake(aws_client, f"athena-af-{suffix}", f"athena_af_{suffix}")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch, local_aws_endpoint: str, lake: Lake) -> Lake:
    for key, value in athena_connections(local_aws_endpoint, lake).items():
        monkeypatch.setenv(key, value)
    return lake


def test_athena_sql_hook_runs_queries_through_pyathena(connections: Lake) -> None:
    from airflow.providers.amazon.aws.hooks.athena_sql import AthenaSQLHook

    hook = AthenaSQLHook(athena_conn_id="athena_default", aws_conn_id="aws_default")
    assert hook.get_records("SELECT symbol, count(*) FROM ticks GROUP BY symbol ORDER BY symbol") == [
        ("AAA", 6),
        ("BBB", 3),
        ("CCC", 3),
    ]
    assert hook.get_first(f"SELECT max(price), min(event_time) FROM {connections.database}.ticks")[0] == 123.0
    df = hook.get_df(f"SELECT dt, hour, count(*) AS n FROM {connections.database}.ticks GROUP BY 1, 2 ORDER BY 1, 2")
    assert list(df["n"]) == [4, 4, 4]
    with hook.get_conn() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT %(sym)s AS s, 7/2 AS d", {"sym": "AAA"})
        assert cursor.fetchall() == [("AAA", 3)]
        assert [d[0] for d in cursor.description] == ["s", "d"]


def test_athena_operator_succeeds_and_fails_with_reason(connections: Lake) -> None:
    from airflow.providers.amazon.aws.operators.athena import AthenaOperator

    ok = AthenaOperator(
        task_id="ctas",
        query=f"SELECT count(*) FROM {connections.database}.ticks",
        database=connections.database,
        output_location=connections.output,
        sleep_time=1,
    )
    qid = ok.execute({})
    assert isinstance(qid, str) and len(qid) == 36

    bad = AthenaOperator(
        task_id="bad",
        query=f"SELECT nope FROM {connections.database}.ticks",
        database=connections.database,
        output_location=connections.output,
        sleep_time=1,
    )
    with pytest.raises(Exception, match="COLUMN_NOT_FOUND"):
        bad.execute({})


def test_common_sql_check_operators(connections: Lake) -> None:
    from airflow.providers.common.sql.operators.sql import (
        SQLCheckOperator,
        SQLColumnCheckOperator,
        SQLTableCheckOperator,
    )

    SQLCheckOperator(
        task_id="rows", conn_id="athena_default", sql="SELECT count(*) = 12, min(price) > 0 FROM ticks"
    ).execute({})
    with pytest.raises(Exception, match="Test failed"):
        SQLCheckOperator(task_id="rows_bad", conn_id="athena_default", sql="SELECT count(*) = 13 FROM ticks").execute(
            {}
        )

    SQLColumnCheckOperator(
        task_id="cols",
        conn_id="athena_default",
        table="ticks",
        column_mapping={
            "price": {"min": {"greater_than": 0}, "null_check": {"equal_to": 0}},
            "symbol": {"distinct_check": {"equal_to": 3}},
        },
    ).execute({})
    with pytest.raises(Exception, match="failed"):
        SQLColumnCheckOperator(
            task_id="cols_bad",
            conn_id="athena_default",
            table="ticks",
            column_mapping={"price": {"max": {"less_than": 50}}},
        ).execute({})

    SQLTableCheckOperator(
        task_id="table",
        conn_id="athena_default",
        table="ticks",
        checks={"row_count": {"check_statement": "COUNT(*) = 12"}, "sizes": {"check_statement": "size > 0"}},
        partition_clause="dt >= '2024-01-01'",
    ).execute({})
    with pytest.raises(Exception, match="failed"):
        SQLTableCheckOperator(
            task_id="table_bad",
            conn_id="athena_default",
            table="ticks",
            checks={"row_count": {"check_statement": "COUNT(*) = 99"}},
        ).execute({})
