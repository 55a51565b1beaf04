"""Benchmark the local Glue crawler: 10 million ticks in 1,000 Parquet objects over dt/hour partitions.

Starts its own ``python -m local_aws`` (temp state dir, free port) unless ``--endpoint`` is given,
uploads the objects with boto3, then times StartCrawler -> READY through the real Glue API, for a
first crawl (creates the table and every partition), a recrawl with nothing new, and a recrawl
after one new partition. Target: first crawl under 5 s on a 2-core machine.

    .venv/bin/python bench/bench_crawler.py [--rows 10000000] [--objects 1000] [--endpoint URL]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local_endpoint import clients, local_endpoint, tick_object

BUCKET = "bench-crawl"
DB = "bench_crawl"
CRAWLER = "bench_crawler"
DAYS = 10
HOURS = 20


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

    with contextlib.ExitStack() as stack:
        proc = None
        url = args.endpoint
        if url is None:
            url, proc = stack.enter_context(local_endpoint())
        s3, glue = clients(url, "s3", "glue")
        s3.create_bucket(Bucket=BUCKET)
        glue.create_database(DatabaseInput={"Name": DB})
        rows_per_object = args.rows // args.objects
        slots = [(d, h) for d in range(DAYS) for h in range(HOURS)]

        def upload(i: int) -> int:
            d, h = slots[i % len(slots)]
            dt = f"2026-01-{d + 1:02d}"
            body = tick_object(i, rows_per_object, dt, h)
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
            Body=tick_object(10**6, rows_per_object, "2026-02-01", 0),
        )
        newpart = timed_crawl(glue)
        print(f"recrawl, one new partition:         {newpart:.2f} s")
        if proc is not None:
            print(f"endpoint RSS after crawls: {rss_mb(proc.pid):.0f} MB (object bodies live on disk)")
        verdict = "OK" if first < 5 else "SLOWER THAN TARGET"
        print(f"target first crawl < 5 s: {verdict}")


if __name__ == "__main__":
    main()
