"""Benchmark the local Glue crawler: 10 million ticks in 1,000 Parquet objects over dt/hour partitions.

Starts its own ``python -m local_aws`` (temp state dir, free port) unless ``--endpoint`` is given,
uploads the objects with boto3, then times StartCrawler -> READY through the real Glue API, for a
first crawl (creates the table and every partition), a recrawl with nothing new, and a recrawl
after one new partition. Target: first crawl under 5 s on a 2-core machine.

    .venv/bin/python bench/bench_crawler.py [--rows 10000000] [--objects 1000] [--endpoint URL]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BUCKET = "bench-crawl"
DB = "bench_crawl"
CRAWLER = "bench_crawler"
DAYS = 10
HOURS = 20
SYMBOLS = np.array([f"SYM{i:02d}" for i in range(50)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_object(index: int, rows: int, dt: str, hour: int) -> bytes:
    rng = np.random.default_rng(index)
    start = np.datetime64(dt, "us") + np.timedelta64(hour, "h")
    offsets = np.sort(rng.integers(0, 3_600_000_000, rows)).astype("timedelta64[us]")
    table = pa.table(
        {
            "symbol": pa.array(SYMBOLS[rng.integers(0, len(SYMBOLS), rows)]),
            "price": pa.array(100 + rng.normal(0, 5, rows)),
            "size": pa.array(rng.integers(1, 1000, rows, dtype=np.int64)),
            "event_time": pa.array(start + offsets, pa.timestamp("us", tz="UTC")),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def start_endpoint(state_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "local_aws", "--port", str(port), "--state-dir", state_dir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_local_aws/health", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("local_aws did not become healthy in 60 s")


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def timed_crawl(glue: Any) -> float:
    """Seconds from StartCrawler to the first GetCrawler that reports READY."""
    started = time.perf_counter()
    glue.start_crawler(Name=CRAWLER)
    while glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] != "READY":
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    last = glue.get_crawler(Name=CRAWLER)["Crawler"]["LastCrawl"]
    if last["Status"] != "SUCCEEDED":
        raise SystemExit(f"crawl did not succeed: {last}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--endpoint", default=None, help="use a running endpoint instead of starting one")
    args = parser.parse_args()

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="bench-crawler-")
    url = args.endpoint
    if url is None:
        proc, url = start_endpoint(os.path.join(tmp.name, "state"))
    kw = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "t", "aws_secret_access_key": "t"}
    s3, glue = boto3.client("s3", **kw), boto3.client("glue", **kw)
    try:
        s3.create_bucket(Bucket=BUCKET)
        glue.create_database(DatabaseInput={"Name": DB})
        rows_per_object = args.rows // args.objects
        slots = [(d, h) for d in range(DAYS) for h in range(HOURS)]

        def upload(i: int) -> int:
            d, h = slots[i % len(slots)]
            dt = f"2026-01-{d + 1:02d}"
            body = make_object(i, rows_per_object, dt, h)
            key = f"raw/ticks/dt={dt}/hour={h:02d}/stock_market_data+{i % 3}+{i * rows_per_object}.parquet"
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            return len(body)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            total_bytes = sum(pool.map(upload, range(args.objects)))
        upload_s = time.perf_counter() - t0
        print(
            f"uploaded {args.objects} objects, {rows_per_object * args.objects:,} rows, "
            f"{total_bytes / 1e6:.1f} MB in {upload_s:.1f} s"
        )

        glue.create_crawler(
            Name=CRAWLER,
            Role="arn:aws:iam::123456789012:role/crawler",
            DatabaseName=DB,
            Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/raw/"}]},
        )
        first = timed_crawl(glue)
        table = glue.get_table(DatabaseName=DB, Name="ticks")["Table"]
        parts = glue.get_paginator("get_partitions").paginate(DatabaseName=DB, TableName="ticks")
        n_parts = sum(len(page["Partitions"]) for page in parts)
        assert table["Parameters"]["recordCount"] == str(rows_per_object * args.objects), table["Parameters"]
        assert table["Parameters"]["objectCount"] == str(args.objects)
        metrics = glue.get_crawler_metrics(CrawlerNameList=[CRAWLER])["CrawlerMetricsList"][0]
        print(
            f"first crawl (StartCrawler -> READY): {first:.2f} s  [crawl itself {metrics['LastRuntimeSeconds']:.2f} s; "
            f"1 table, {n_parts} partitions, recordCount {table['Parameters']['recordCount']}]"
        )
        again = timed_crawl(glue)
        print(f"recrawl, nothing new:               {again:.2f} s")
        s3.put_object(
            Bucket=BUCKET,
            Key="raw/ticks/dt=2026-02-01/hour=00/new.parquet",
            Body=make_object(10**6, rows_per_object, "2026-02-01", 0),
        )
        newpart = timed_crawl(glue)
        print(f"recrawl, one new partition:         {newpart:.2f} s")
        if proc is not None:
            print(f"endpoint RSS after crawls: {rss_mb(proc.pid):.0f} MB (object bodies live on disk)")
        verdict = "OK" if first < 5 else "SLOWER THAN TARGET"
        print(f"target first crawl < 5 s: {verdict}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        tmp.cleanup()


if __name__ == "__main__":
    main()
