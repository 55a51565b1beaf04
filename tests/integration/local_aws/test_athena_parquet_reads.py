"""How Athena reads Parquet values through a Glue table: a Glue ``timestamp`` column is Trino's
timestamp(3), and Trino's Parquet reader rounds finer (micro- and nanosecond) values half up to
milliseconds (TransformingValueDecoders.getInt64TimestampMicrosToShortTimestampDecoder), so a tick
written 0.4 ms before an hour reads as the next hour."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from tests.integration.local_aws.athena_helpers import parquet, query


def test_microsecond_timestamps_read_as_milliseconds_rounded_half_up(aws_client: Callable[..., Any]) -> None:
    suffix = uuid.uuid4().hex[:8]
    bucket, database = f"athena-micros-{suffix}", f"athena_micros_{suffix}"
    s3, glue, athena = aws_client("s3"), aws_client("glue"), aws_client("athena")
    s3.create_bucket(Bucket=bucket)
    times = [dt.datetime(2026, 11, 25, 10, 59, 59, micro, tzinfo=dt.UTC) for micro in (999_600, 123_400, 123_500)]
    table = pa.table({"id": [1, 2, 3], "event_time": pa.array(times, pa.timestamp("us", tz="UTC"))})
    s3.put_object(Bucket=bucket, Key="t/part-0.parquet", Body=parquet(table))
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "t",
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "event_time", "Type": "timestamp"}],
                "Location": f"s3://{bucket}/t/",
            },
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet"},
        },
    )
    rows = query(
        athena,
        "SELECT id, event_time, hour(event_time), millisecond(event_time) FROM t ORDER BY id",
        f"s3://{bucket}/results/",
        QueryExecutionContext={"Database": database},
    )
    assert rows[1:] == [
        ["1", "2026-11-25 11:00:00.000", "11", "0"],
        ["2", "2026-11-25 10:59:59.123", "10", "123"],
        ["3", "2026-11-25 10:59:59.124", "10", "124"],
    ]
