"""Benchmark the local Athena: 10 million ticks in 1,000 Parquet objects over dt/hour partitions.

Starts its own ``python -m local_aws`` on a free port (temp state dir), uploads the objects with
boto3, registers the table and partitions in Glue, then times through the real Athena API:
``count(*)`` over everything and a per-symbol GROUP BY with a partition filter, cold (first read
materialises the objects into the local cache) and warm. Target: each under 2 s, cold included.

    .venv/bin/python bench/bench_athena.py [--rows 10000000] [--objects 1000]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from local_endpoint import clients, local_endpoint, tick_object

BUCKET = "bench-lake"
DB = "bench"
TABLE = "ticks"
DAYS = 10
HOURS = 20
GLUE_COLUMNS = [
    {"Name": "schema_version", "Type": "int"},
    {"Name": "event_type", "Type": "string"},
    {"Name": "symbol", "Type": "string"},
    {"Name": "event_time", "Type": "timestamp"},
    {"Name": "seq", "Type": "bigint"},
    {"Name": "price", "Type": "double"},
    {"Name": "size", "Type": "bigint"},
    {"Name": "bid", "Type": "double"},
    {"Name": "ask", "Type": "double"},
]


def run_query(athena, sql: str) -> tuple[float, list[list[str]], dict]:
    t0 = time.perf_counter()
    qid = athena.start_query_execution(
        QueryString=sql, ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/athena-results/"}
    )["QueryExecutionId"]
    while True:
        ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if ex["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.02)
    if ex["Status"]["State"] != "SUCCEEDED":
        raise RuntimeError(ex["Status"])
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    elapsed = time.perf_counter() - t0
    return elapsed, [[d.get("VarCharValue") for d in r["Data"]] for r in rows], ex["Statistics"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--objects", type=int, default=1000)
    args = parser.parse_args()
    rows_per_object = args.rows // args.objects
    partitions = [(f"2024-01-{d + 1:02d}", h) for d in range(DAYS) for h in range(HOURS)]

    with local_endpoint("--sync-wait", "10") as (url, _proc):
        s3, glue, athena = clients(url, "s3", "glue", "athena")
        s3.create_bucket(Bucket=BUCKET)

        t0 = time.perf_counter()

        def upload(i: int) -> None:
            dt, hour = partitions[i % len(partitions)]
            body = tick_object(i, rows_per_object, dt, hour)
            key = f"raw/{TABLE}/dt={dt}/hour={hour:02d}/ticks+0+{i * rows_per_object}.parquet"
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(upload, range(args.objects)))
        print(
            f"uploaded {args.objects} objects / {rows_per_object * args.objects:,} rows "
            f"in {time.perf_counter() - t0:.1f}s"
        )

        glue.create_database(DatabaseInput={"Name": DB})
        glue.create_table(
            DatabaseName=DB,
            TableInput={
                "Name": TABLE,
                "StorageDescriptor": {"Columns": GLUE_COLUMNS, "Location": f"s3://{BUCKET}/raw/{TABLE}/"},
                "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "string"}],
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet"},
            },
        )
        inputs = [
            {"Values": [dt, f"{h:02d}"],
             "StorageDescriptor": {"Location": f"s3://{BUCKET}/raw/{TABLE}/dt={dt}/hour={h:02d}/"}}
            for dt, h in partitions
        ]  # fmt: skip
        for i in range(0, len(inputs), 100):
            glue.batch_create_partition(DatabaseName=DB, TableName=TABLE, PartitionInputList=inputs[i : i + 100])

        queries = {
            "count(*)": f"SELECT count(*) FROM {DB}.{TABLE}",
            "group by symbol, dt filter": (
                f"SELECT symbol, count(*) AS n, avg(price) AS avg_price, max(price) AS hi "
                f"FROM {DB}.{TABLE} WHERE dt = '2024-01-05' GROUP BY symbol ORDER BY symbol"
            ),
            "group by symbol, all": (
                f"SELECT symbol, count(*) AS n, approx_percentile(price, 0.5) AS p50 "
                f"FROM {DB}.{TABLE} GROUP BY symbol ORDER BY symbol"
            ),
        }
        print(f"{'query':32} {'run':5} {'seconds':>8} {'scanned MB':>11}  first row")
        for name, sql in queries.items():
            for run in ("cold", "warm", "warm"):
                elapsed, rows, stats = run_query(athena, sql)
                print(
                    f"{name:32} {run:5} {elapsed:8.3f} {stats['DataScannedInBytes'] / 1e6:11.1f}  {rows[1] if len(rows) > 1 else '(no rows)'}"
                )
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
