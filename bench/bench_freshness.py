"""End-to-end freshness on the local stack: from a tick being acknowledged to it being countable in Athena.

Runs the real Airflow stack (scheduler, LocalExecutor, SQLite) against the real broker and the local
AWS endpoint, with the simulator producing, and the ingest and catalog DAGs on their schedule. Every
few seconds Athena is asked for `max(ingested_at)`: every tick the broker appended up to that time is
countable. A tick's freshness is the first poll time at which its append time is covered, minus its
append time (LogAppendTime is the acknowledgement time to within the broker's append latency).

    python bench/bench_freshness.py [--minutes 1 5] [--measure-s 600]

Needs `make services` (scripts/bench.sh starts them). Prints median, p95 and max per schedule.
"""

from __future__ import annotations

import argparse
import bisect
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3

from devstack import airflow
from devstack.config import StackConfig, connections_env, stack_config_for

DAGS = ("stock_market_setup", "stock_market_simulator", "stock_market_ingest", "stock_market_catalog")


def _env_for(minutes: int) -> dict[str, str]:
    suffix = f"fresh{minutes}m{int(time.time())}"
    names = {
        "PIPELINE_TOPIC": f"bench_{suffix}",
        "PIPELINE_BUCKET": f"bench-{suffix}",
        "PIPELINE_GLUE_DATABASE": f"bench_{suffix}",
        "PIPELINE_CRAWLER": f"bench_{suffix}",
        "PIPELINE_ATHENA_WORKGROUP": f"bench_{suffix}",
        "PIPELINE_CONSUMER_GROUP": f"bench_{suffix}",
        "PIPELINE_INTERVAL_MINUTES": str(minutes),
    }
    os.environ.update(names)  # connections_env reads the bucket and workgroup names
    kafka = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    aws = os.environ.get("LOCAL_AWS_ENDPOINT", "http://127.0.0.1:4566")
    return {**names, **connections_env(stack_config_for(kafka, aws))}


def _newest_countable(athena, env: dict[str, str]) -> datetime | None:
    qid = athena.start_query_execution(
        QueryString=f"SELECT max(ingested_at) FROM {env['PIPELINE_GLUE_DATABASE']}.ticks",
        WorkGroup=env["PIPELINE_ATHENA_WORKGROUP"],
    )["QueryExecutionId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
        if state == "SUCCEEDED":
            rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
            value = rows[1]["Data"][0].get("VarCharValue") if len(rows) > 1 else None
            return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
        if state in ("FAILED", "CANCELLED"):
            return None  # the table does not exist until the first crawl
        time.sleep(0.2)
    return None


def measure(minutes: int, measure_s: float, rate: float) -> list[float]:
    env = _env_for(minutes)
    state_dir = Path(os.environ.get("STATE_DIR", ".state"))
    cfg = StackConfig(airflow_home_dir=state_dir / f"bench-freshness-{minutes}m", airflow_port=18090)
    aws = os.environ.get("LOCAL_AWS_ENDPOINT", "http://127.0.0.1:4566")
    athena = boto3.client(
        "athena", endpoint_url=aws, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    airflow.prepare(cfg, extra_env=env)
    airflow.start(cfg, extra_env=env)
    try:
        api = airflow.client(cfg)
        deadline = time.monotonic() + 240
        while not set(DAGS) <= api.dag_ids():
            if time.monotonic() > deadline:
                raise RuntimeError("DAGs were not parsed")
            time.sleep(2)
        api.unpause("stock_market_setup")
        assert api.wait_for_run("stock_market_setup", api.trigger("stock_market_setup"), 300) == "success"
        api.unpause("stock_market_simulator")
        api.trigger("stock_market_simulator", conf={"rate": rate, "duration_s": int(measure_s + minutes * 120 + 300)})
        api.unpause("stock_market_ingest")
        api.unpause("stock_market_catalog")
        polls: list[tuple[float, float]] = []  # (poll time, newest countable append time)
        started = time.time()
        # Warm-up: the first scheduled interval after unpausing, then measure.
        end = started + minutes * 60 + measure_s
        while time.time() < end:
            newest = _newest_countable(athena, env)
            if newest is not None:
                polls.append((time.time(), newest.timestamp()))
            print(f"  [{minutes}m] t+{time.time() - started:5.0f}s newest countable: {newest}", flush=True)
            time.sleep(5)
    finally:
        airflow.stop(cfg)
    if not polls:
        return []
    # Ticks appended once per second across the measured span, after the warm-up.
    covered = _running_max([newest for _, newest in polls])
    times = [t for t, _ in polls]
    first = started + minutes * 60
    samples = []
    tick = first
    while tick < polls[-1][1]:
        i = bisect.bisect_left(covered, tick)
        if i < len(times):
            samples.append(times[i] - tick)
        tick += 1.0
    return samples


def _running_max(values: list[float]) -> list[float]:
    out, best = [], float("-inf")
    for v in values:
        best = max(best, v)
        out.append(best)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, nargs="+", default=[1, 5], help="interval lengths to measure")
    parser.add_argument("--measure-s", type=float, default=600, help="seconds measured per schedule")
    parser.add_argument("--rate", type=float, default=200, help="simulator ticks/s")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; simulator at {args.rate:.0f} ticks/s")
    for minutes in args.minutes:
        samples = measure(minutes, args.measure_s, args.rate)
        if not samples:
            print(f"{minutes}-minute schedule: no ticks became countable", file=sys.stderr)
            return 1
        q = statistics.quantiles(samples, n=20)
        print(
            f"{minutes}-minute schedule: acknowledged -> countable in Athena: "
            f"median {statistics.median(samples):.0f} s, p95 {q[18]:.0f} s, max {max(samples):.0f} s "
            f"({len(samples)} one-second samples)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
