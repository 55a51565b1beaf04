"""Helpers for the Athena endpoint tests: a partitioned tick table in S3 + Glue, and query polling."""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")

TICK_COLUMNS = [
    {"Name": "symbol", "Type": "string"},
    {"Name": "price", "Type": "double"},
    {"Name": "size", "Type": "bigint"},
    {"Name": "event_time", "Type": "timestamp"},
]


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def tick_table(day: str, hour: int, symbols: list[str], base_price: float) -> pa.Table:
    start = dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)
    n = len(symbols)
    return pa.table(
        {
            "symbol": symbols,
            "price": [base_price + i for i in range(n)],
            "size": pa.array([10 * (i + 1) for i in range(n)], pa.int64()),
            "event_time": pa.array([start + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
        }
    )


@dataclass
class Lake:
    """A bucket with ``raw/ticks/dt=/hour=`` objects; Glue knows all partitions but the last one."""

    bucket: str
    database: str
    table: str = "ticks"
    registered: tuple[tuple[str, str], ...] = (("2024-01-01", "09"), ("2024-01-01", "10"), ("2024-01-02", "09"))
    unregistered: tuple[str, str] = ("2024-01-03", "09")

    @property
    def output(self) -> str:
        return f"s3://{self.bucket}/athena-results/"


def build_lake(client: Any, bucket: str, database: str) -> Lake:
    s3, glue = client("s3"), client("glue")
    lake = Lake(bucket, database)
    s3.create_bucket(Bucket=bucket)
    for i, (day, hour) in enumerate((*lake.registered, lake.unregistered)):
        body = parquet(tick_table(day, int(hour), ["AAA", "BBB", "AAA", "CCC"], 100.0 + 10 * i))
        s3.put_object(Bucket=bucket, Key=f"raw/ticks/dt={day}/hour={hour}/part-0.parquet", Body=body)
    s3.put_object(Bucket=bucket, Key="raw/ticks/dt=2024-01-01/hour=09/_SUCCESS", Body=b"")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": lake.table,
            "StorageDescriptor": {
                "Columns": TICK_COLUMNS,
                "Location": f"s3://{bucket}/raw/ticks/",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
            },
            "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "string"}],
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet"},
        },
    )
    glue.batch_create_partition(
        DatabaseName=database,
        TableName=lake.table,
        PartitionInputList=[
            {"Values": [d, h], "StorageDescriptor": {"Location": f"s3://{bucket}/raw/ticks/dt={d}/hour={h}/"}}
            for d, h in lake.registered
        ],
    )
    return lake


def wait_query(athena: Any, qid: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll GetQueryExecution until a final state; return the QueryExecution."""
    deadline = time.monotonic() + timeout
    while True:
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if execution["Status"]["State"] in TERMINAL:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(f"query {qid} still {execution['Status']['State']} after {timeout}s")
        time.sleep(0.02)


def run(athena: Any, sql: str, output: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Start a query, wait for it, return the QueryExecution."""
    if output:
        kwargs["ResultConfiguration"] = {"OutputLocation": output}
    qid = athena.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]
    return wait_query(athena, qid)


def rows(athena: Any, execution: dict[str, Any]) -> list[list[str | None]]:
    """All result rows (header included for DML), following NextToken."""
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    out: list[list[str | None]] = []
    kwargs: dict[str, Any] = {"QueryExecutionId": execution["QueryExecutionId"]}
    while True:
        page = athena.get_query_results(**kwargs)
        out += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def query(athena: Any, sql: str, output: str, **kwargs: Any) -> list[list[str | None]]:
    return rows(athena, run(athena, sql, output, **kwargs))
