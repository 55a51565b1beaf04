"""Athena DDL, CTAS and INSERT INTO against a real endpoint: the Glue catalog and S3 change for real."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.local_aws.athena_helpers import parquet, query, rows, run, tick_table


@pytest.fixture
def world(aws_client: Callable[..., Any]) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    bucket = f"athena-ddl-{suffix}"
    aws_client("s3").create_bucket(Bucket=bucket)
    return {
        "bucket": bucket,
        "db": f"ddl_{suffix}",
        "out": f"s3://{bucket}/athena-results/",
        "athena": aws_client("athena"),
        "glue": aws_client("glue"),
        "s3": aws_client("s3"),
    }


def ok(world: dict[str, Any], sql: str) -> dict[str, Any]:
    execution = run(world["athena"], sql, world["out"])
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    return execution


def test_external_table_msck_alter_show_describe_drop(world: dict[str, Any]) -> None:
    athena, glue, s3, db, bucket = world["athena"], world["glue"], world["s3"], world["db"], world["bucket"]
    for day, hour in (("2024-01-01", "09"), ("2024-01-01", "10")):
        body = parquet(tick_table(day, int(hour), ["AAA", "BBB"], 10.0))
        s3.put_object(Bucket=bucket, Key=f"data/ticks/dt={day}/hour={hour}/p.parquet", Body=body)
    s3.put_object(Bucket=bucket, Key="elsewhere/p.parquet", Body=parquet(tick_table("2024-02-01", 1, ["ZZZ"], 1.0)))

    created = ok(world, f"CREATE DATABASE IF NOT EXISTS {db}")
    assert created["StatementType"] == "DDL"
    ok(world, f"CREATE DATABASE IF NOT EXISTS {db}")
    assert glue.get_database(Name=db)["Database"]["Name"] == db
    ok(
        world,
        f"""CREATE EXTERNAL TABLE IF NOT EXISTS {db}.ticks (
              symbol string, price double, size bigint, event_time timestamp)
            PARTITIONED BY (dt string, hour string)
            STORED AS PARQUET
            LOCATION 's3://{bucket}/data/ticks/'
            TBLPROPERTIES ('parquet.compression'='SNAPPY')""",
    )
    table = glue.get_table(DatabaseName=db, Name="ticks")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt", "hour"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{bucket}/data/ticks/"
    assert table["Parameters"]["parquet.compression"] == "SNAPPY"

    assert query(athena, f"SELECT count(*) FROM {db}.ticks", world["out"])[1] == ["0"]  # nothing registered yet
    ok(world, f"MSCK REPAIR TABLE {db}.ticks")
    assert query(athena, f"SELECT count(*) FROM {db}.ticks", world["out"])[1] == ["4"]
    ok(
        world,
        f"ALTER TABLE {db}.ticks ADD IF NOT EXISTS PARTITION (dt='2024-02-01', hour='01') "
        f"LOCATION 's3://{bucket}/elsewhere/' PARTITION (dt='2024-01-01', hour='09')",
    )
    shown = rows(athena, ok(world, f"SHOW PARTITIONS {db}.ticks"))
    assert shown == [["dt=2024-01-01/hour=09"], ["dt=2024-01-01/hour=10"], ["dt=2024-02-01/hour=01"]]
    assert query(athena, f"SELECT symbol FROM {db}.ticks WHERE dt = '2024-02-01'", world["out"]) == [
        ["symbol"],
        ["ZZZ"],
    ]
    assert rows(athena, ok(world, f"SHOW TABLES IN {db}")) == [["ticks"]]
    described = rows(athena, ok(world, f"DESCRIBE {db}.ticks"))
    assert described[0] == ["symbol\tstring\t"]

    again = run(athena, f"ALTER TABLE {db}.ticks ADD PARTITION (dt='2024-01-01', hour='09')", world["out"])
    assert again["Status"]["State"] == "FAILED" and "AlreadyExists" in again["Status"]["StateChangeReason"]

    not_empty = run(athena, f"DROP DATABASE {db}", world["out"])
    assert not_empty["Status"]["State"] == "FAILED"
    ok(world, f"DROP TABLE {db}.ticks")
    ok(world, f"DROP TABLE IF EXISTS {db}.ticks")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="data/ticks/")["KeyCount"] == 2  # external data stays
    ok(world, f"DROP DATABASE {db}")
    assert db not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]


def test_ctas_insert_into_and_path_already_exists(world: dict[str, Any]) -> None:
    athena, glue, s3, db, bucket = world["athena"], world["glue"], world["s3"], world["db"], world["bucket"]
    ok(world, f"CREATE DATABASE {db}")
    ctas = ok(
        world,
        f"""CREATE TABLE {db}.daily WITH (format='PARQUET', external_location='s3://{bucket}/curated/daily/',
                partitioned_by=ARRAY['dt'])
            AS SELECT symbol, sum(size) AS volume, dt
               FROM (VALUES ('AAA', 10, '2024-01-01'), ('AAA', 5, '2024-01-01'), ('BBB', 7, '2024-01-02'))
                    AS t(symbol, size, dt)
               GROUP BY symbol, dt""",
    )
    assert ctas["StatementType"] == "DML"
    table = glue.get_table(DatabaseName=db, Name="daily")["Table"]
    # The literals make symbol varchar(3); Trino's Hive connector records a bounded varchar as
    # varchar(n) and only an unbounded one as string (HiveTypeTranslator.toTypeInfo).
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("symbol", "varchar(3)"),
        ("volume", "bigint"),
    ]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt"]
    parts = glue.get_partitions(DatabaseName=db, TableName="daily")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["2024-01-01"], ["2024-01-02"]]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="curated/daily/")["Contents"]]
    assert all(k.endswith(".parquet") for k in keys) and any("/dt=2024-01-02/" in k for k in keys)

    assert athena.get_query_results(QueryExecutionId=ctas["QueryExecutionId"])["UpdateCount"] == 2
    inserted = ok(world, f"INSERT INTO {db}.daily SELECT 'CCC', 3, '2024-01-03'")
    assert athena.get_query_results(QueryExecutionId=inserted["QueryExecutionId"])["UpdateCount"] == 1
    runtime = athena.get_query_runtime_statistics(QueryExecutionId=inserted["QueryExecutionId"])
    assert runtime["QueryRuntimeStatistics"]["Timeline"]["TotalExecutionTimeInMillis"] >= 0
    ok(world, f"INSERT INTO {db}.daily VALUES ('AAA', 1, '2024-01-01')")
    result = query(
        athena, f"SELECT dt, symbol, sum(volume) AS v FROM {db}.daily GROUP BY 1, 2 ORDER BY 1, 2", world["out"]
    )
    assert result == [
        ["dt", "symbol", "v"],
        ["2024-01-01", "AAA", "16"],
        ["2024-01-02", "BBB", "7"],
        ["2024-01-03", "CCC", "3"],
    ]

    clash = run(
        athena,
        f"CREATE TABLE {db}.other WITH (format='PARQUET', external_location='s3://{bucket}/curated/daily/') "
        "AS SELECT 1 AS x",
        world["out"],
    )
    assert clash["Status"]["State"] == "FAILED"
    assert clash["Status"]["StateChangeReason"].startswith("HIVE_PATH_ALREADY_EXISTS")
    exists = run(athena, f"CREATE TABLE {db}.daily AS SELECT 1 AS x", world["out"])
    assert exists["Status"]["State"] == "FAILED" and "already exists" in exists["Status"]["StateChangeReason"]


def test_query_a_table_made_by_the_crawler(world: dict[str, Any]) -> None:
    athena, glue, s3, db, bucket = world["athena"], world["glue"], world["s3"], world["db"], world["bucket"]
    for day, hour in (("2024-03-01", "00"), ("2024-03-01", "01"), ("2024-03-02", "00")):
        body = parquet(tick_table(day, int(hour), ["AAA", "BBB", "CCC"], 50.0))
        s3.put_object(Bucket=bucket, Key=f"raw/ticks/dt={day}/hour={hour}/p.parquet", Body=body)
    glue.create_database(DatabaseInput={"Name": db})
    name = f"crawler-{uuid.uuid4().hex[:6]}"
    glue.create_crawler(
        Name=name,
        Role="arn:aws:iam::123456789012:role/glue",
        DatabaseName=db,
        Targets={"S3Targets": [{"Path": f"s3://{bucket}/raw/"}]},
    )
    glue.start_crawler(Name=name)
    deadline = time.monotonic() + 60
    while (
        glue.get_crawler(Name=name)["Crawler"]["State"] != "READY"
        or "LastCrawl" not in glue.get_crawler(Name=name)["Crawler"]
    ):
        assert time.monotonic() < deadline, "crawler did not finish"
        time.sleep(0.1)
    tables = [t["Name"] for t in glue.get_tables(DatabaseName=db)["TableList"]]
    assert tables == ["ticks"]
    result = query(
        athena,
        f"SELECT dt, count(*) AS n FROM {db}.ticks WHERE hour = '00' GROUP BY dt ORDER BY dt",
        world["out"],
    )
    assert result == [["dt", "n"], ["2024-03-01", "3"], ["2024-03-02", "3"]]


def test_hive_style_ddl_and_non_parquet_tables(world: dict[str, Any]) -> None:
    athena, glue, s3, db, bucket = world["athena"], world["glue"], world["s3"], world["db"], world["bucket"]
    s3.put_object(Bucket=bucket, Key="hive/t/p.parquet", Body=parquet(tick_table("2024-01-01", 0, ["AAA"], 1.0)))
    ok(world, f"CREATE DATABASE `{db}`")
    ok(
        world,
        f"""CREATE EXTERNAL TABLE `{db}`.`hive_t` (`symbol` string, `price` double)
            ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
            STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
            OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
            LOCATION 's3://{bucket}/hive/t/'""",
    )
    sd = glue.get_table(DatabaseName=db, Name="hive_t")["Table"]["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert query(athena, f'SELECT symbol, price FROM "{db}"."hive_t"', world["out"]) == [
        ["symbol", "price"],
        ["AAA", "1.0"],
    ]
    ok(world, f"CREATE EXTERNAL TABLE {db}.csv_t (a string) STORED AS TEXTFILE LOCATION 's3://{bucket}/csv/'")
    failed = run(athena, f"SELECT * FROM {db}.csv_t", world["out"])
    assert failed["Status"]["StateChangeReason"].startswith("HIVE_UNSUPPORTED_FORMAT")
