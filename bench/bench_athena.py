"""Benchmark the local Athena: 10 million ticks in 1,000 Parquet objects over dt/hour partitions.

Starts its own ``python -m local_aws`` on a free port (temp state dir), uploads the objects with
boto3, registers the table and partitions in Glue, then times through the real Athena API:
``count(*)`` over everything and a per-symbol GROUP BY with a partition filter, cold (first read
materialises the objects into the local cache) and warm. Target: each under 2 s, cold included.

``--compare REV`` also starts the endpoint as it was at git revision REV (its ``tools/local_aws``
exported to a temporary directory ahead of the installed one on PYTHONPATH) with the same data, and
runs every query on both side by side, in rounds of fresh endpoints (alternating which goes first),
printing median times and the median ratio new/old: figures from one run on a shared machine compare;
figures from two runs do not.

    .venv/bin/python bench/bench_athena.py [--rows 10000000] [--objects 1000] [--compare b5417be] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
QUERIES = {
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


def run_query(athena: Any, sql: str) -> tuple[float, list[list[str]], dict]:
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


def load_lake(url: str, bodies: dict[str, bytes], partitions: list[tuple[str, int]]) -> Any:
    """Upload the objects, register the table and its partitions; the endpoint's Athena client."""
    s3, glue, athena = clients(url, "s3", "glue", "athena")
    s3.create_bucket(Bucket=BUCKET)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda item: s3.put_object(Bucket=BUCKET, Key=item[0], Body=item[1]), bodies.items()))
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
    return athena


@contextlib.contextmanager
def endpoint_at(revision: str | None) -> Iterator[str]:
    """The endpoint of this checkout, or (``revision``) the one at that git revision."""
    if revision is None:
        with local_endpoint("--sync-wait", "10") as (url, _proc):
            yield url
        return
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-athena-baseline-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", revision, "tools/local_aws"], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        endpoint = local_endpoint("--sync-wait", "10")
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.join(tmp, "tools"), saved) if p)
        try:  # the child process takes the environment when it starts
            url, _proc = endpoint.__enter__()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
        try:
            yield url
        finally:
            endpoint.__exit__(None, None, None)


def one_round(bodies: dict[str, bytes], partitions: list[tuple[str, int]], revisions: dict[str, str | None]) -> dict:
    """Fresh endpoints (so the first query of each is cold), the same data, every query on each in turn."""
    timings: dict[tuple[str, str, str], float] = {}
    with contextlib.ExitStack() as stack:
        athenas = {}
        for name, revision in revisions.items():
            url = stack.enter_context(endpoint_at(revision))
            t0 = time.perf_counter()
            athenas[name] = load_lake(url, bodies, partitions)
            print(f"  {name}: uploaded and registered in {time.perf_counter() - t0:.1f}s")
        for query_name, sql in QUERIES.items():
            for run in ("cold", "warm 1", "warm 2"):
                line = []
                for name, athena in athenas.items():
                    elapsed, rows, _ = run_query(athena, sql)
                    timings[(query_name, run, name)] = elapsed
                    line.append(f"{name} {elapsed:.3f}s")
                print(f"  {query_name:28} {run:6} " + "  ".join(line) + f"  {rows[1] if len(rows) > 1 else ''}")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--compare", metavar="REV", help="also run the endpoint at this git revision, side by side")
    parser.add_argument(
        "--rounds", type=int, default=None, help="fresh endpoints per round (default 1, 3 with --compare)"
    )
    args = parser.parse_args()
    rows_per_object = args.rows // args.objects
    partitions = [(f"2024-01-{d + 1:02d}", h) for d in range(DAYS) for h in range(HOURS)]
    t0 = time.perf_counter()
    bodies = {}
    for i in range(args.objects):
        dt, hour = partitions[i % len(partitions)]
        key = f"raw/{TABLE}/dt={dt}/hour={hour:02d}/ticks+0+{i * rows_per_object}.parquet"
        bodies[key] = tick_object(i, rows_per_object, dt, hour)
    print(
        f"generated {args.objects} objects / {rows_per_object * args.objects:,} rows in {time.perf_counter() - t0:.1f}s"
    )
    revisions: dict[str, str | None] = {"new": None}
    if args.compare:
        revisions["old"] = args.compare
    rounds = args.rounds or (3 if args.compare else 1)
    results: list[dict] = []
    for number in range(rounds):
        # alternate which endpoint goes first, so neither always meets a busier machine
        order = dict(reversed(list(revisions.items()))) if number % 2 else revisions
        print(f"round {number + 1}/{rounds} ({' then '.join(order)})")
        results.append(one_round(bodies, partitions, order))
    print(
        f"\nmedian seconds over {rounds} round(s)" + (f"; ratio = new / old ({args.compare})" if args.compare else "")
    )
    print(
        f"{'query':28} {'run':6} " + " ".join(f"{name:>8}" for name in revisions) + ("   ratio" if args.compare else "")
    )
    for query_name in QUERIES:
        for run in ("cold", "warm 1", "warm 2"):
            medians = [statistics.median(r[(query_name, run, name)] for r in results) for name in revisions]
            ratios = (
                [r[(query_name, run, "new")] / r[(query_name, run, "old")] for r in results] if args.compare else []
            )
            ratio = f"  {statistics.median(ratios):6.2f}" if ratios else ""
            print(f"{query_name:28} {run:6} " + " ".join(f"{m:8.3f}" for m in medians) + ratio)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
