"""Benchmark: one window of >= 3 million ticks from the local broker to Parquet on the S3 endpoint.

Three ways to get the same window into S3, each measured in its own subprocess (clean peak memory):

- ``ingest``   this project's ``ingest_window`` (offset ranges, Arrow JSON decode, chunked Parquet);
- ``operator`` what ConsumeFromTopicOperator-style code does: a consume loop, ``json.loads`` per message,
               a list of dicts, a pandas DataFrame, ``to_parquet``, one object (measured on a sample);
- ``per_msg``  the original design: one S3 object per message (measured on a small sample).

Rates of the sampled approaches scale linearly with the message count (per-message work dominates),
so they are compared per message. Run: ``.venv/bin/python bench/bench_ingest.py`` (services up).
Targets on a 2-core machine: >= 300,000 ticks/s, >= 3x ``operator``, peak RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
ENDPOINT = os.environ.get("LOCAL_AWS_ENDPOINT", "http://127.0.0.1:4566")
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
# Children: one approach each, in a fresh process; they print one JSON line.
# --------------------------------------------------------------------------------------------------


def child_ingest(args: argparse.Namespace) -> dict:
    from confluent_kafka import Consumer

    from market_pipeline.ingest.kafka_window import window_consumer_config
    from market_pipeline.ingest.run import IngestOptions, ingest_window

    consumer = Consumer(
        window_consumer_config({"bootstrap.servers": BOOTSTRAP, "group.id": f"bench_{uuid.uuid4().hex[:6]}"})
    )
    s3 = s3_client()
    began, cpu0 = time.monotonic(), time.process_time()
    result = ingest_window(
        consumer,
        s3,
        bucket=args.bucket,
        table="ticks",
        topic=args.topic,
        window_start=datetime.fromtimestamp(args.start_ms / 1000, UTC),
        window_end=datetime.fromtimestamp(args.end_ms / 1000, UTC),
        options=IngestOptions(grace_seconds=5),
    )
    seconds, cpu = time.monotonic() - began, time.process_time() - cpu0
    consumer.close()
    return {
        "cpu_seconds": cpu,
        "messages": result.messages_in,
        "rows": result.rows_out,
        "objects": result.data_objects,
        "bytes": result.bytes_written,
        "seconds": seconds,
    }


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


CHILDREN = {"ingest": child_ingest, "operator": child_operator, "per_msg": child_per_msg}


def run_child(name: str, **kwargs: object) -> dict:
    argv = [sys.executable, __file__, "--child", name]
    for key, value in kwargs.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=3_000_000)
    parser.add_argument("--operator-sample", type=int, default=600_000)
    parser.add_argument("--per-msg-sample", type=int, default=2_000)
    parser.add_argument("--child", choices=sorted(CHILDREN))
    parser.add_argument("--topic")
    parser.add_argument("--bucket")
    parser.add_argument("--start-ms", type=int)
    parser.add_argument("--end-ms", type=int)
    parser.add_argument("--sample", type=int)
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
    try:
        print(
            f"load average before: {os.getloadavg()} on {os.cpu_count()} cores (other work slows every row)", flush=True
        )
        start_ms, end_ms, produce_s = produce(topic, args.ticks)
        print(f"produced {args.ticks:,} ticks in {produce_s:.1f}s ({args.ticks / produce_s:,.0f}/s)", flush=True)
        common = {"topic": topic, "bucket": bucket}
        ingest = run_child("ingest", start_ms=start_ms, end_ms=end_ms, **common)
        assert ingest["messages"] == ingest["rows"] == args.ticks, ingest
        operator = run_child("operator", sample=args.operator_sample, **common)
        per_msg = run_child("per_msg", sample=args.per_msg_sample, **common)
        print(f"load average after: {os.getloadavg()}")
    finally:
        admin.delete_topics([topic])

    rate = {
        name: r["messages"] / r["seconds"]
        for name, r in (("ingest", ingest), ("operator", operator), ("per_msg", per_msg))
    }
    print()
    print(f"{'approach':<38}{'messages':>11}{'seconds':>9}{'ticks/s':>11}{'peak RSS MB':>13}{'CPU us/tick':>13}")
    for name, r, label in (
        ("ingest", ingest, "ingest_window (this project)"),
        ("operator", operator, "(b) operator-style, sampled"),
        ("per_msg", per_msg, "(a) one object per message, sampled"),
    ):
        cpu_us = 1e6 * r["cpu_seconds"] / r["messages"]
        print(
            f"{label:<38}{r['messages']:>11,}{r['seconds']:>9.2f}{rate[name]:>11,.0f}{r['maxrss_mb']:>13,.0f}{cpu_us:>13.2f}"
        )
    print()
    cpu = {name: r["cpu_seconds"] / r["messages"] for name, r in (("ingest", ingest), ("operator", operator))}
    print(
        f"ingest vs (b) operator-style: {rate['ingest'] / rate['operator']:.1f}x wall-clock, {cpu['operator'] / cpu['ingest']:.1f}x less CPU per tick"
    )
    print(f"ingest vs (a) object per message: {rate['ingest'] / rate['per_msg']:,.0f}x")
    print(
        f"(a) would need {args.ticks / rate['per_msg'] / 60:,.0f} min for this window; ingest took {ingest['seconds']:.1f} s"
    )
    print(f"Parquet written: {ingest['objects']} objects, {ingest['bytes'] / 1e6:.1f} MB")
    print(
        f"targets: >=300,000 ticks/s {'OK' if rate['ingest'] >= 300_000 else 'MISSED'}; "
        f">=3x (b) {'OK' if rate['ingest'] >= 3 * rate['operator'] else 'MISSED'}; "
        f"peak <=1.5 GB {'OK' if ingest['maxrss_mb'] <= 1536 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
