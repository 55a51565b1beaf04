"""Benchmark: one 3-partition window of >= 3 million ticks from the local broker to Parquet on the S3 endpoint.

Side by side in one run, on the same window, each process measured on its own (clean peak memory):

- ``single``    this project's ``ingest_window``: plan, every partition, seal in one process;
- ``mapped xN`` what the ingest DAG runs: a plan process, one ``ingest_partition`` process per
                partition with N of them at a time (N = 1, 2, 3: one to three Airflow worker slots),
                then a seal process. The aggregate rate is end to end (plan start to seal end, process
                start-ups included, as real tasks pay them); the per-task rate is each partition task's
                own (connect, read, decode, write, part manifest);
- ``operator``  what ConsumeFromTopicOperator-style code does: a consume loop, ``json.loads`` per message,
                a list of dicts, a pandas DataFrame, ``to_parquet``, one object (measured on a sample);
- ``per_msg``   the original design: one S3 object per message (measured on a small sample).

Every ingest row must write the very same objects (keys and bytes): the bench checks it. CPU is each
process's own (all its threads), CPU-seconds per million ticks; the broker's and the endpoint's CPU
during each row are shown apart (they share the machine). Rates of the sampled approaches scale
linearly with the message count (per-message work dominates), so they are compared per message.

Run: ``.venv/bin/python bench/bench_ingest.py`` (services up; ``BENCH=ingest make bench`` starts them).
Targets on a 2-core machine: a single-partition task >= 300,000 ticks/s; aggregate >= 400,000 ticks/s;
<= 4 CPU-us per tick in the ingest process; >= 3x ``operator``; peak RSS <= 1.5 GB per task.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
ENDPOINT = os.environ.get("LOCAL_AWS_ENDPOINT", "http://127.0.0.1:4566")
STATE_DIR = Path(os.environ.get("STATE_DIR", ROOT / ".state" / "bench"))
PARTITIONS = 3


def s3_client():
    import boto3

    return boto3.client(
        "s3", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )


def tick_pool(size: int) -> list[tuple[bytes, bytes, bytes]]:
    """Distinct pre-encoded ticks as (key, JSON before the event time, JSON after it).

    The event time is filled in per message (see `produce`), so event time ascends with the offset
    on every partition, as the simulator's does, and the window crosses one hour boundary.
    """
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "JPM", "V", "XOM"]
    pool = []
    for i in range(size):
        symbol = symbols[i % len(symbols)]
        mid = 100.0 + 7 * (i % len(symbols)) + (i % 997) / 100
        trade = i % 4 == 0
        tick = {
            "schema_version": 1,
            "event_type": "trade" if trade else "quote",
            "symbol": symbol,
            "event_time": "@",
            "seq": i,
            "exchange": "XNAS",
            "price": round(mid, 2),
            "size": 100 + i % 900 if trade else None,
            "bid": round(mid - 0.01, 2),
            "bid_size": 100 + i % 50,
            "ask": round(mid + 0.01, 2),
            "ask_size": 100 + i % 70,
        }
        before, after = json.dumps(tick, separators=(",", ":")).encode().split(b"@")
        pool.append((symbol.encode(), before, after))
    return pool


def event_time(i: int) -> bytes:
    """09:30:00 + i ms: 3 million ticks span 09:30-10:20, crossing 10:00."""
    minutes, ms = divmod(i, 60_000)
    return b"2026-11-25T%02d:%02d:%02d.%03d000Z" % (
        9 + (30 + minutes) // 60,
        (30 + minutes) % 60,
        ms // 1000,
        ms % 1000,
    )


def produce(topic: str, count: int) -> tuple[int, int, float]:
    """Produce `count` ticks as fast as the broker takes them; returns (start_ms, end_ms, seconds)."""
    from confluent_kafka import Producer

    pool = tick_pool(60_000)
    producer = Producer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "linger.ms": 20,
            "batch.size": 1_000_000,
            "batch.num.messages": 100_000,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "compression.type": "lz4",
            "acks": 1,
        }
    )
    start_ms = int(time.time() * 1000) - 1
    began = time.monotonic()
    produce_ = producer.produce
    for i in range(count):
        key, before, after = pool[i % len(pool)]
        value = before + event_time(i) + after
        try:
            produce_(topic, value, key, i % PARTITIONS)
        except BufferError:
            producer.poll(0.01)
            produce_(topic, value, key, i % PARTITIONS)
        if i % 50_000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0, "undelivered messages"
    seconds = time.monotonic() - began
    end_ms = int(time.time() * 1000) + 1
    while time.time() * 1000 <= end_ms + 5:
        time.sleep(0.005)
    for p in range(PARTITIONS):  # one later message per partition closes the window at once
        produce_(topic, pool[0][1] + event_time(count) + pool[0][2], pool[0][0], p)
    assert producer.flush(30) == 0
    return start_ms, end_ms, seconds


# --------------------------------------------------------------------------------------------------
# Children: one step each, in a fresh process; they print one JSON line.
# --------------------------------------------------------------------------------------------------


def _window_consumer(group: str):
    from confluent_kafka import Consumer

    from market_pipeline.ingest.kafka_window import window_consumer_config

    return Consumer(window_consumer_config({"bootstrap.servers": BOOTSTRAP, "group.id": group}))


def _options():
    from market_pipeline.ingest.options import IngestOptions

    return IngestOptions(grace_seconds=5)


def _timed(step) -> dict:
    """Run `step()` (returns a dict), adding its wall-clock and CPU seconds (all threads of this process)."""
    began, cpu0 = time.monotonic(), time.process_time()
    result = step()
    return {**result, "seconds": time.monotonic() - began, "cpu_seconds": time.process_time() - cpu0}


def child_single(args: argparse.Namespace) -> dict:
    from market_pipeline.ingest.run import ingest_window

    consumer, s3 = _window_consumer(args.group), s3_client()

    def step() -> dict:
        result = ingest_window(
            consumer,
            s3,
            bucket=args.bucket,
            table="ticks",
            topic=args.topic,
            window_start=datetime.fromtimestamp(args.start_ms / 1000, UTC),
            window_end=datetime.fromtimestamp(args.end_ms / 1000, UTC),
            options=_options(),
        )
        return {
            "messages": result.messages_in,
            "rows": result.rows_out,
            "objects": result.data_objects,
            "bytes": result.bytes_written,
        }

    out = _timed(step)
    consumer.close()
    return out


def child_plan(args: argparse.Namespace) -> dict:
    from market_pipeline.ingest.plan import plan_window

    consumer, s3 = _window_consumer(args.group), s3_client()

    def step() -> dict:
        plan = plan_window(
            consumer,
            s3,
            bucket=args.bucket,
            table="ticks",
            topic=args.topic,
            window_start=datetime.fromtimestamp(args.start_ms / 1000, UTC),
            window_end=datetime.fromtimestamp(args.end_ms / 1000, UTC),
            options=_options(),
        )
        return {"work": plan.work(), "messages": plan.messages}

    out = _timed(step)
    consumer.close()
    return out


def child_partition(args: argparse.Namespace) -> dict:
    from market_pipeline.ingest.partition import ingest_partitions
    from market_pipeline.ingest.plan import PartitionWork

    consumer, s3 = _window_consumer(args.group), s3_client()
    work = PartitionWork.from_dict(json.loads(args.work))

    def step() -> dict:
        results = ingest_partitions(consumer, s3, bucket=args.bucket, work=work, options=_options())
        return {"messages": sum(r.part.partition.messages for r in results)}

    out = _timed(step)
    consumer.close()
    return out


def child_seal(args: argparse.Namespace) -> dict:
    from market_pipeline.ingest.plan import WindowPlan
    from market_pipeline.ingest.seal import seal_window

    consumer, s3 = _window_consumer(args.group), s3_client()
    plan = WindowPlan.from_work(json.loads(args.work))

    def step() -> dict:
        result = seal_window(consumer, s3, bucket=args.bucket, plan=plan, options=_options())
        return {"messages": result.messages_in, "rows": result.rows_out}

    out = _timed(step)
    consumer.close()
    return out


def _assigned_consumer(topic: str, per_partition: int):
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": BOOTSTRAP, "group.id": f"bench_{uuid.uuid4().hex[:6]}", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    return consumer


def child_operator(args: argparse.Namespace) -> dict:
    """ConsumeFromTopicOperator style: consume loop, json.loads each, list, DataFrame, to_parquet."""
    import pandas as pd

    consumer = _assigned_consumer(args.topic, args.sample)
    s3 = s3_client()
    began, cpu0 = time.monotonic(), time.process_time()
    records: list[dict] = []
    while len(records) < args.sample:
        for msg in consumer.consume(num_messages=1000, timeout=1.0):  # the operator's max_batch_size
            records.append(json.loads(msg.value()))
    df = pd.DataFrame(records[: args.sample])
    df["event_time"] = pd.to_datetime(df["event_time"], utc=True)
    buffer = io.BytesIO()
    df.to_parquet(buffer, compression="zstd", index=False)
    s3.put_object(Bucket=args.bucket, Key=f"operator/{args.topic}.parquet", Body=buffer.getvalue())
    seconds, cpu = time.monotonic() - began, time.process_time() - cpu0
    consumer.close()
    return {"messages": args.sample, "seconds": seconds, "cpu_seconds": cpu, "bytes": buffer.tell()}


def child_per_msg(args: argparse.Namespace) -> dict:
    """The original design: one S3 object per message."""
    consumer = _assigned_consumer(args.topic, args.sample)
    s3 = s3_client()
    began, cpu0 = time.monotonic(), time.process_time()
    done = 0
    while done < args.sample:
        for msg in consumer.consume(num_messages=500, timeout=1.0):
            if done >= args.sample:
                break
            s3.put_object(
                Bucket=args.bucket,
                Key=f"per_msg/{msg.topic()}/{msg.partition()}/{msg.offset()}.json",
                Body=msg.value(),
            )
            done += 1
    seconds, cpu = time.monotonic() - began, time.process_time() - cpu0
    consumer.close()
    return {"messages": done, "seconds": seconds, "cpu_seconds": cpu}


CHILDREN = {
    "single": child_single,
    "plan": child_plan,
    "partition": child_partition,
    "seal": child_seal,
    "operator": child_operator,
    "per_msg": child_per_msg,
}


def run_child(name: str, **kwargs: object) -> dict:
    argv = [sys.executable, __file__, "--child", name]
    for key, value in kwargs.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------------
# The parent: produce once, run every approach on the same window, compare.
# --------------------------------------------------------------------------------------------------


class ServiceCpu:
    """CPU seconds the broker and the endpoint used (they share the machine with the ingest)."""

    FILES = {"broker": ("kafka", "kafka.pid"), "endpoint": ("run", "local-aws.pid")}

    def __init__(self) -> None:
        self.pids = {}
        for name, (folder, file) in self.FILES.items():
            with contextlib.suppress(OSError, ValueError):
                self.pids[name] = int((STATE_DIR / folder / file).read_text().strip())

    def sample(self) -> dict[str, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        out = {}
        for name, pid in self.pids.items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[name] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return out


def measured(services: ServiceCpu, run) -> dict:
    before, load = services.sample(), os.getloadavg()[0]
    began = time.monotonic()
    result = run()
    result["wall"] = time.monotonic() - began
    after = services.sample()
    result["service_cpu"] = {k: after[k] - before[k] for k in after if k in before}
    result["load"] = (load, os.getloadavg()[0])
    return result


def run_mapped(parallel: int, common: dict, window: dict) -> dict:
    """The DAG's shape: plan, the partition tasks `parallel` at a time, seal (each its own process)."""
    plan = run_child("plan", **common, **window)
    work = plan["work"]

    def task(item: dict) -> dict:
        return run_child("partition", work=json.dumps(item), **common)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        parts = list(pool.map(task, work))
    seal = run_child("seal", work=json.dumps(work), **common)
    steps = [plan, *parts, seal]
    return {
        "messages": seal["messages"],
        "rows": seal["rows"],
        "cpu_seconds": sum(s["cpu_seconds"] for s in steps),
        "maxrss_mb": max(s["maxrss_mb"] for s in steps),
        "tasks": parts,
    }


def lake_digest(bucket: str, topic: str) -> dict[str, str]:
    """MD5 of every object the ingest wrote (data, dead letters, parts, manifest): what must not change."""
    s3 = s3_client()
    digests = {}
    for prefix in ("raw/", "dlq/", "_parts/", "_manifests/"):
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = s3.list_objects_v2(**kwargs)
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                digests[item["Key"]] = hashlib.md5(body).hexdigest()
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
    return digests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=3_000_000)
    parser.add_argument("--operator-sample", type=int, default=600_000)
    parser.add_argument("--per-msg-sample", type=int, default=2_000)
    parser.add_argument("--parallel", type=int, nargs="*", default=[1, 2, 3], help="mapped runs to measure")
    parser.add_argument("--child", choices=sorted(CHILDREN))
    parser.add_argument("--topic")
    parser.add_argument("--bucket")
    parser.add_argument("--group")
    parser.add_argument("--start-ms", type=int)
    parser.add_argument("--end-ms", type=int)
    parser.add_argument("--sample", type=int)
    parser.add_argument("--work")
    args = parser.parse_args()

    if args.child:
        result = CHILDREN[args.child](args)
        result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"bench_{uuid.uuid4().hex[:8]}"
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1, config={"message.timestamp.type": "LogAppendTime"})])[
        topic
    ].result(timeout=30)
    s3_client().create_bucket(Bucket=bucket)
    services = ServiceCpu()
    rows: list[tuple[str, dict]] = []
    try:
        print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()}", flush=True)
        start_ms, end_ms, produce_s = produce(topic, args.ticks)
        print(f"produced {args.ticks:,} ticks in {produce_s:.1f}s ({args.ticks / produce_s:,.0f}/s)", flush=True)
        common = {"topic": topic, "bucket": bucket, "group": f"bench_{uuid.uuid4().hex[:6]}"}
        window = {"start_ms": start_ms, "end_ms": end_ms}

        single = measured(services, lambda: run_child("single", **common, **window))
        assert single["messages"] == single["rows"] == args.ticks, single
        rows.append(("single task (ingest_window)", single))
        reference = lake_digest(bucket, topic)
        print(f"single task: {args.ticks / single['seconds']:,.0f} ticks/s", flush=True)
        for parallel in args.parallel:
            result = measured(services, lambda parallel=parallel: run_mapped(parallel, common, window))
            assert result["messages"] == result["rows"] == args.ticks, result
            assert lake_digest(bucket, topic) == reference, f"mapped x{parallel} wrote other bytes than the single task"
            rows.append((f"mapped, {parallel} task(s) at a time", result))
            print(f"mapped x{parallel}: {args.ticks / result['wall']:,.0f} ticks/s end to end", flush=True)
        operator = measured(services, lambda: run_child("operator", sample=args.operator_sample, **common))
        rows.append(("(b) operator-style, sampled", operator))
        per_msg = measured(services, lambda: run_child("per_msg", sample=args.per_msg_sample, **common))
        rows.append(("(a) one object per message, sampled", per_msg))
        print(f"load average after: {os.getloadavg()}")
    finally:
        admin.delete_topics([topic])

    report(rows, args.ticks)


def report(rows: list[tuple[str, dict]], ticks: int) -> None:
    print()
    print(
        f"{'approach':<38}{'ticks':>11}{'wall s':>8}{'ticks/s':>11}{'CPU s/M':>9}{'broker':>8}{'endpoint':>9}"
        f"{'peak RSS MB':>12}{'load':>11}"
    )
    for label, r in rows:
        per_m = 1e6 / r["messages"]
        svc = r["service_cpu"]
        seconds = r["seconds"] if "seconds" in r and "tasks" not in r else r["wall"]
        print(
            f"{label:<38}{r['messages']:>11,}{seconds:>8.2f}{r['messages'] / seconds:>11,.0f}"
            f"{r['cpu_seconds'] * per_m:>9.2f}{svc.get('broker', 0) * per_m:>8.2f}{svc.get('endpoint', 0) * per_m:>9.2f}"
            f"{r['maxrss_mb']:>12,.0f}{r['load'][0]:>5.1f}-{r['load'][1]:<5.1f}"
        )
        for i, task in enumerate(r.get("tasks", [])):
            print(
                f"  {'partition task ' + str(i):<36}{task['messages']:>11,}{task['seconds']:>8.2f}"
                f"{task['messages'] / task['seconds']:>11,.0f}{task['cpu_seconds'] * 1e6 / task['messages']:>9.2f}"
                f"{'':>17}{task['maxrss_mb']:>12,.0f}"
            )
    by = dict(rows)
    single, operator, per_msg = (
        by["single task (ingest_window)"],
        by["(b) operator-style, sampled"],
        by["(a) one object per message, sampled"],
    )
    rate = {
        k: r["messages"] / r["seconds"] for k, r in (("single", single), ("operator", operator), ("per_msg", per_msg))
    }
    cpu = {k: r["cpu_seconds"] / r["messages"] for k, r in (("single", single), ("operator", operator))}
    mapped = [(label, r) for label, r in rows if "tasks" in r]
    best_task = max((t["messages"] / t["seconds"] for _, r in mapped for t in r["tasks"]), default=0.0)
    best_aggregate = max((r["messages"] / r["wall"] for _, r in mapped), default=0.0)
    task_cpu_us = min((t["cpu_seconds"] * 1e6 / t["messages"] for _, r in mapped for t in r["tasks"]), default=0.0)
    print()
    print("CPU s/M: CPU-seconds per million ticks of the ingest process(es); broker/endpoint: the services' CPU")
    print("per million ticks during that row. Mapped rows: wall-clock from plan start to seal end, processes included.")
    print(
        f"single task vs (b) operator-style: {rate['single'] / rate['operator']:.1f}x wall-clock, {cpu['operator'] / cpu['single']:.1f}x less CPU per tick"
    )
    print(f"single task vs (a) object per message: {rate['single'] / rate['per_msg']:,.0f}x")
    print(
        f"Parquet written: {single['objects']} data objects, {single['bytes'] / 1e6:.1f} MB; every ingest row wrote identical bytes"
    )
    peak = max(r["maxrss_mb"] for _, r in rows if "maxrss_mb" in r)
    print(
        f"targets: single-partition task >=300,000 ticks/s {'OK' if best_task >= 300_000 else 'MISSED'} ({best_task:,.0f}); "
        f"aggregate >=400,000 ticks/s {'OK' if best_aggregate >= 400_000 else 'MISSED'} ({best_aggregate:,.0f}); "
        f"<=4 CPU-us/tick per task {'OK' if task_cpu_us <= 4 else 'MISSED'} ({task_cpu_us:.2f}); "
        f">=3x (b) {'OK' if rate['single'] >= 3 * rate['operator'] else 'MISSED'}; "
        f"peak <=1.5 GB {'OK' if peak <= 1536 else 'MISSED'} ({peak:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
