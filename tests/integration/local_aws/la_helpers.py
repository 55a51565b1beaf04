"""Helpers shared by the local_aws endpoint tests: Parquet bodies and crawler polling."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

TICK_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("price", pa.float64()),
        ("size", pa.int64()),
        ("event_time", pa.timestamp("us", tz="UTC")),
    ]
)


def ticks(n: int = 5, extra: dict[str, pa.Array] | None = None, start: int = 0) -> pa.Table:
    """``n`` tick rows (symbol, price, size, event_time) plus optional extra columns."""
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    table = pa.table(
        {
            "symbol": [f"SYM{(start + i) % 7}" for i in range(n)],
            "price": [100.0 + start + i for i in range(n)],
            "size": pa.array([start + i for i in range(n)], pa.int64()),
            "event_time": pa.array(
                [base + dt.timedelta(seconds=start + i) for i in range(n)], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    for name, values in (extra or {}).items():
        table = table.append_column(name, values)
    return table


def rich_table() -> pa.Table:
    """One row of every type the crawler maps, to check the Hive type strings."""
    return pa.table(
        {
            "i8": pa.array([1], pa.int8()),
            "i16": pa.array([1], pa.int16()),
            "i32": pa.array([1], pa.int32()),
            "i64": pa.array([1], pa.int64()),
            "f32": pa.array([1.5], pa.float32()),
            "f64": pa.array([1.5], pa.float64()),
            "flag": pa.array([True]),
            "name": pa.array(["x"]),
            "raw": pa.array([b"x"], pa.binary()),
            "ts": pa.array([dt.datetime(2026, 1, 1)], pa.timestamp("ms")),
            "day": pa.array([dt.date(2026, 1, 1)], pa.date32()),
            "amount": pa.array([decimal.Decimal("12.34")], pa.decimal128(10, 2)),
            "tags": pa.array([["a", "b"]], pa.list_(pa.string())),
            "quote": pa.array([{"bid": 1.0, "Ask": 2.0}], pa.struct([("bid", pa.float64()), ("Ask", pa.float64())])),
            "attrs": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int32())),
            "MixedCase": pa.array([1], pa.int64()),
        }
    )


def parquet_bytes(table: pa.Table, compression: str = "snappy") -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression=compression)
    return buf.getvalue()


def wait_ready(glue: Any, name: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll GetCrawler until READY; return the crawler description."""
    deadline = time.monotonic() + timeout
    while True:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY":
            return crawler
        if time.monotonic() > deadline:
            raise AssertionError(f"crawler {name} still {crawler['State']} after {timeout}s")
        time.sleep(0.05)


def wait_state(glue: Any, name: str, state: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == state:
            return crawler
        if time.monotonic() > deadline:
            raise AssertionError(f"crawler {name} never reached {state} (is {crawler['State']})")
        time.sleep(0.02)


def crawl(glue: Any, name: str, timeout: float = 60.0) -> dict[str, Any]:
    """StartCrawler and wait for READY; return the crawler description."""
    glue.start_crawler(Name=name)
    return wait_ready(glue, name, timeout)


def columns(glue: Any, database: str, table: str) -> list[tuple[str, str]]:
    t = glue.get_table(DatabaseName=database, Name=table)["Table"]
    return [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]]


def partition_values(glue: Any, database: str, table: str) -> list[list[str]]:
    parts = glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
    return sorted(p["Values"] for p in parts)


@dataclass
class CrawlWorld:
    """A bucket, a Glue database and clients on one endpoint, for one test."""

    s3: Any
    glue: Any
    bucket: str
    database: str

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def crawler(self, name: str, path: str = "raw/", **kwargs: Any) -> str:
        """Create a crawler on ``s3://<bucket>/<path>`` into the test database."""
        targets = kwargs.pop("Targets", {"S3Targets": [{"Path": f"s3://{self.bucket}/{path}"}]})
        self.glue.create_crawler(
            Name=name,
            Role="arn:aws:iam::123456789012:role/crawler",
            DatabaseName=self.database,
            Targets=targets,
            **kwargs,
        )
        return name
