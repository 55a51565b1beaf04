"""Athena queries against a real endpoint process with boto3: results, errors, paging, workgroups."""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.local_aws.athena_helpers import Lake, build_lake, query, rows, run, wait_query


@pytest.fixture(scope="module")
def lake(aws_client: Callable[..., Any]) -> Lake:
    suffix = uuid.uuid4().hex[:8]
    return build_lake(aws_client, f"athena-q-{suffix}", f"athena_q_{suffix}")


@pytest.fixture(scope="module")
def athena(aws_client: Callable[..., Any]) -> Any:
    return aws_client("athena")


def test_aggregate_over_registered_partitions_only(athena, lake: Lake) -> None:
    result = query(athena, f"SELECT count(*), sum(size), min(dt), max(dt), 7/2 FROM {lake.database}.ticks", lake.output)
    # 3 registered partitions x 4 rows; dt=2024-01-03 exists in S3 but is not in Glue -> invisible
    assert result == [["_col0", "_col1", "_col2", "_col3", "_col4"], ["12", "300", "2024-01-01", "2024-01-02", "3"]]


def test_partition_filter_prunes_and_reports_scanned_bytes(athena, lake: Lake) -> None:
    everything = run(athena, f"SELECT count(*) FROM {lake.database}.ticks", lake.output)
    one = run(
        athena,
        f"SELECT symbol, count(*) AS n FROM awsdatacatalog.{lake.database}.ticks "
        "WHERE dt = '2024-01-01' AND hour = '10' GROUP BY symbol ORDER BY symbol",
        lake.output,
    )
    assert rows(athena, one) == [["symbol", "n"], ["AAA", "2"], ["BBB", "1"], ["CCC", "1"]]
    assert 0 < one["Statistics"]["DataScannedInBytes"] < everything["Statistics"]["DataScannedInBytes"]
    invisible = query(athena, f"SELECT count(*) FROM {lake.database}.ticks WHERE dt = '2024-01-03'", lake.output)
    assert invisible[1] == ["0"]


def test_unqualified_table_with_context_database(athena, lake: Lake) -> None:
    result = query(
        athena, "SELECT count(*) AS n FROM ticks", lake.output, QueryExecutionContext={"Database": lake.database}
    )
    assert result == [["n"], ["12"]]


def test_window_date_functions_percentile_cte_join(athena, lake: Lake) -> None:
    sql = f"""
        WITH daily AS (
            SELECT symbol, dt, sum(size) AS volume, max_by(price, event_time) AS close
            FROM {lake.database}.ticks GROUP BY symbol, dt
        ), names AS (
            SELECT * FROM (VALUES ('AAA', 'Alpha'), ('BBB', 'Beta')) AS t(symbol, name)
        )
        SELECT d.symbol, n.name, d.dt, d.volume,
               sum(d.volume) OVER (PARTITION BY d.symbol ORDER BY d.dt) AS running,
               rank() OVER (PARTITION BY d.dt ORDER BY d.volume DESC, d.symbol) AS rnk,
               date_add('day', 1, date(d.dt)) AS next_day,
               format_datetime(date_trunc('day', date_parse(d.dt, '%Y-%m-%d')), 'yyyy/MM/dd') AS day_text
        FROM daily d JOIN names n ON d.symbol = n.symbol
        WHERE d.symbol = 'AAA'
        ORDER BY d.dt
    """
    result = query(athena, sql, lake.output)
    assert result[0] == ["symbol", "name", "dt", "volume", "running", "rnk", "next_day", "day_text"]
    assert result[1] == ["AAA", "Alpha", "2024-01-01", "80", "80", "1", "2024-01-02", "2024/01/01"]
    assert result[2] == ["AAA", "Alpha", "2024-01-02", "40", "120", "1", "2024-01-03", "2024/01/02"]

    stats = query(
        athena,
        f"SELECT approx_percentile(price, 0.5) AS p50, approx_distinct(symbol) AS syms, count_if(size > 20) AS big, "
        f"to_unixtime(min(event_time)) AS first_epoch, arbitrary(symbol) IS NOT NULL AS any_sym "
        f"FROM {lake.database}.ticks WHERE dt = '2024-01-01'",
        lake.output,
    )
    assert stats[1][1:] == ["3", "4", "1.7040996E9", "true"]
    assert 100.0 <= float(stats[1][0]) <= 113.0


def test_execution_parameters(athena, lake: Lake) -> None:
    execution = run(
        athena,
        f"SELECT count(*) AS n FROM {lake.database}.ticks WHERE dt = ? AND size >= ?",
        lake.output,
        ExecutionParameters=["'2024-01-01'", "20"],
    )
    assert rows(athena, execution) == [["n"], ["6"]]
    assert execution["ExecutionParameters"] == ["'2024-01-01'", "20"]
    injected = run(athena, "SELECT ?", lake.output, ExecutionParameters=["1; DROP TABLE x"])
    assert injected["Status"]["State"] == "FAILED"


def test_result_csv_written_to_output_location(athena, lake: Lake, aws_client) -> None:
    execution = run(athena, "SELECT 'a,b' AS s, NULL AS n, 1.5 AS d, true AS b", lake.output)
    assert execution["StatementType"] == "DML"
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"{lake.output}{execution['QueryExecutionId']}.csv"
    body = aws_client("s3").get_object(Bucket=lake.bucket, Key=location.split("/", 3)[3])["Body"].read().decode()
    assert body == '"s","n","d","b"\n"a,b",,"1.5","true"\n'
    assert list(csv.reader(io.StringIO(body)))[1] == ["a,b", "", "1.5", "true"]


def test_paging_and_column_info(athena, lake: Lake) -> None:
    execution = run(
        athena, f"SELECT symbol, price, event_time, dt FROM {lake.database}.ticks ORDER BY price", lake.output
    )
    qid = execution["QueryExecutionId"]
    first = athena.get_query_results(QueryExecutionId=qid, MaxResults=5)
    assert len(first["ResultSet"]["Rows"]) == 5 and "NextToken" in first
    types = [(c["Name"], c["Type"]) for c in first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    assert types == [("symbol", "varchar"), ("price", "double"), ("event_time", "timestamp"), ("dt", "varchar")]
    assert rows(athena, execution)[1] == ["AAA", "100.0", "2024-01-01 09:00:00.000", "2024-01-01"]
    assert len(rows(athena, execution)) == 13
    paginator = athena.get_paginator("get_query_results")
    pages = list(paginator.paginate(QueryExecutionId=qid, PaginationConfig={"PageSize": 4}))
    assert sum(len(p["ResultSet"]["Rows"]) for p in pages) == 13
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidRequestException"):
        athena.get_query_results(QueryExecutionId=qid, NextToken="garbage")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "SELECT * FROM {db}.missing",
            "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.{db}.missing' does not exist",
        ),
        ("SELECT x FROM {db}.ticks", "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"),
        ("SELECT * FROM nosuchschema.t", "SCHEMA_NOT_FOUND: line 1:15: Schema 'nosuchschema' does not exist"),
        ("SELECT * FROM {db}.ticks WHERE", "SYNTAX_ERROR: line 1:"),
    ],
)
def test_failures_explain_themselves(athena, lake: Lake, sql: str, reason: str) -> None:
    execution = run(athena, sql.format(db=lake.database), lake.output)
    status = execution["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith(reason.format(db=lake.database))
    error = status["AthenaError"]
    assert error["ErrorCategory"] == 2 and error["Retryable"] is False
    assert error["ErrorMessage"] == status["StateChangeReason"]
    with pytest.raises(botocore.exceptions.ClientError, match="FAILED"):
        athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])


def test_unknown_query_id_is_invalid_request(athena) -> None:
    for call in (athena.get_query_execution, athena.get_query_results, athena.stop_query_execution):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            call(QueryExecutionId=str(uuid.uuid4()))
        assert info.value.response["Error"]["Code"] == "InvalidRequestException"


def test_stop_query_execution_cancels(athena, lake: Lake) -> None:
    sql = (
        "SELECT count(*) FROM UNNEST(sequence(1, 60000)) a(x) CROSS JOIN UNNEST(sequence(1, 60000)) b(x) "
        "WHERE a.x + b.x > 5"
    )
    qid = athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": lake.output})[
        "QueryExecutionId"
    ]
    time.sleep(0.3)  # let it reach RUNNING; the stop must work in either state
    athena.stop_query_execution(QueryExecutionId=qid)
    execution = wait_query(athena, qid)
    assert execution["Status"]["State"] == "CANCELLED"
    time.sleep(0.5)
    assert athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] == "CANCELLED"


def test_workgroup_output_location_and_enforcement(athena, lake: Lake, aws_client) -> None:
    name = f"wg-{uuid.uuid4().hex[:8]}"
    athena.create_work_group(Name=name, Configuration={"EnforceWorkGroupConfiguration": False})
    no_location = athena.start_query_execution
    with pytest.raises(botocore.exceptions.ClientError, match="No output location provided"):
        no_location(QueryString="SELECT 1", WorkGroup=name)
    athena.update_work_group(
        WorkGroup=name,
        ConfigurationUpdates={
            "EnforceWorkGroupConfiguration": True,
            "ResultConfigurationUpdates": {"OutputLocation": f"s3://{lake.bucket}/wg-results/"},
        },
    )
    conf = athena.get_work_group(WorkGroup=name)["WorkGroup"]["Configuration"]
    assert conf["ResultConfiguration"]["OutputLocation"] == f"s3://{lake.bucket}/wg-results/"
    # enforced: the client's location is ignored
    execution = run(athena, "SELECT 1 AS one", f"s3://{lake.bucket}/client/", WorkGroup=name)
    assert execution["WorkGroup"] == name
    key = f"wg-results/{execution['QueryExecutionId']}.csv"
    assert aws_client("s3").get_object(Bucket=lake.bucket, Key=key)["Body"].read() == b'"one"\n"1"\n'
    assert execution["QueryExecutionId"] in athena.list_query_executions(WorkGroup=name)["QueryExecutionIds"]
    with pytest.raises(botocore.exceptions.ClientError, match="Unable to verify/create output bucket"):
        athena.start_query_execution(
            QueryString="SELECT 1", ResultConfiguration={"OutputLocation": "s3://no-such-bucket-x/"}
        )
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidRequestException"):
        athena.get_work_group(WorkGroup="no-such-workgroup")


def test_catalog_apis_are_backed_by_glue(athena, lake: Lake) -> None:
    catalogs = athena.list_data_catalogs()["DataCatalogsSummary"]
    assert {"CatalogName": "AwsDataCatalog", "Type": "GLUE"} in catalogs
    assert athena.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]["Type"] == "GLUE"
    names = [d["Name"] for d in athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]]
    assert lake.database in names
    assert (
        athena.get_database(CatalogName="AwsDataCatalog", DatabaseName=lake.database)["Database"]["Name"]
        == lake.database
    )
    meta = athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=lake.database, TableName="ticks")
    table = meta["TableMetadata"]
    assert [c["Name"] for c in table["Columns"]] == ["symbol", "price", "size", "event_time"]
    assert [c["Name"] for c in table["PartitionKeys"]] == ["dt", "hour"]
    assert table["Parameters"]["location"] == f"s3://{lake.bucket}/raw/ticks/"
    listed = athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=lake.database)
    assert [t["Name"] for t in listed["TableMetadataList"]] == ["ticks"]
    with pytest.raises(botocore.exceptions.ClientError, match="MetadataException"):
        athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=lake.database, TableName="nope")


def test_sync_wait_gives_final_state_on_first_poll(endpoint_factory, boto3_session_factory) -> None:
    endpoint = endpoint_factory(sync_wait=10)
    client = boto3_session_factory(endpoint.url)
    suffix = uuid.uuid4().hex[:8]
    lake = build_lake(client, f"athena-s-{suffix}", f"athena_s_{suffix}")
    athena = client("athena")
    qid = athena.start_query_execution(
        QueryString=f"SELECT count(*) FROM {lake.database}.ticks", ResultConfiguration={"OutputLocation": lake.output}
    )["QueryExecutionId"]
    execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["Statistics"]["TotalExecutionTimeInMillis"] >= execution["Statistics"]["QueryQueueTimeInMillis"]


def test_workgroups_survive_a_restart(fresh_endpoint, boto3_session_factory) -> None:
    athena = boto3_session_factory(fresh_endpoint.url)("athena")
    athena.create_work_group(
        Name="pipeline",
        Configuration={"ResultConfiguration": {"OutputLocation": "s3://some-bucket/results/"}},
        Description="kept",
    )
    fresh_endpoint.restart()
    athena = boto3_session_factory(fresh_endpoint.url)("athena")
    group = athena.get_work_group(WorkGroup="pipeline")["WorkGroup"]
    assert group["Configuration"]["ResultConfiguration"]["OutputLocation"] == "s3://some-bucket/results/"
    assert group["Description"] == "kept"


def test_information_schema_and_division_by_zero(athena, lake: Lake) -> None:
    columns = query(
        athena,
        "SELECT column_name, data_type, extra_info FROM information_schema.columns "
        f"WHERE table_schema = '{lake.database}' AND table_name = 'ticks' ORDER BY ordinal_position",
        lake.output,
    )
    assert columns[1:] == [
        ["symbol", "string", None],
        ["price", "double", None],
        ["size", "bigint", None],
        ["event_time", "timestamp", None],
        ["dt", "string", "partition key"],
        ["hour", "string", "partition key"],
    ]
    tables = query(
        athena, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{lake.database}'", lake.output
    )
    assert tables == [["table_name"], ["ticks"]]
    failed = run(athena, "SELECT 1 / 0", lake.output)
    assert failed["Status"]["StateChangeReason"] == "DIVISION_BY_ZERO: Division by zero"


def test_old_results_are_spilled_and_still_served(endpoint_factory, boto3_session_factory) -> None:
    endpoint = endpoint_factory(sync_wait=10, env={"LOCAL_AWS_ATHENA_RESULT_CELLS": "3"})
    client = boto3_session_factory(endpoint.url)
    client("s3").create_bucket(Bucket="spill-results")
    athena = client("athena")
    out = "s3://spill-results/out/"
    executions = [run(athena, f"SELECT x, x * {i} AS y FROM UNNEST(sequence(1, 3)) AS t(x)", out) for i in range(3)]
    for i, execution in enumerate(executions):
        assert rows(athena, execution) == [["x", "y"]] + [[str(x), str(x * i)] for x in (1, 2, 3)]
