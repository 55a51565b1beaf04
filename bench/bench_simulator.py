"""Simulator throughput: model only, JSON encoding, and acknowledged end to end on the local broker.

Not a test. Run: .venv/bin/python bench/bench_simulator.py [--bootstrap 127.0.0.1:9092] [--ticks N]
Prints each figure beside the original design's rate of 1 message per second.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import uuid
from datetime import UTC, datetime

from simulator import SimulatorConfig, run
from simulator.calendar import SessionClock, TradingCalendar, to_us
from simulator.encode import JsonEncoder
from simulator.model import MarketModel, ModelConfig

ORIGINAL_RATE = 1.0  # the original project's producer: one message per second (sleep(1) in a loop)
START = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def _model(seed: int = 1) -> MarketModel:
    return MarketModel(ModelConfig(seed=seed), SessionClock(TradingCalendar(), to_us(START)))


def bench_model(ticks: int, block: int) -> float:
    model = _model()
    model.next_block(block)  # warm-up
    t0 = time.perf_counter()
    done = 0
    while done < ticks:
        done += len(model.next_block(block))
    return done / (time.perf_counter() - t0)


def bench_encode(ticks: int, block: int) -> tuple[float, float]:
    model = _model()
    blocks = [model.next_block(block) for _ in range(max(1, ticks // block))]
    enc = JsonEncoder(model.symbols)
    enc.encode(blocks[0])
    t0 = time.perf_counter()
    size = 0
    for b in blocks:
        values = enc.encode(b)
        enc.keys(b)
        size += sum(map(len, values[:100]))
    rate = len(blocks) * block / (time.perf_counter() - t0)
    return rate, size / min(100 * len(blocks), len(blocks) * block)


def bench_kafka(bootstrap: str, ticks: int, partitions: int) -> dict:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = f"bench_sim_{uuid.uuid4().hex[:10]}"
    admin.create_topics([NewTopic(topic, partitions, 1, config={"message.timestamp.type": "LogAppendTime"})])[
        topic
    ].result(timeout=30)
    try:
        result = run(
            SimulatorConfig(
                topic=topic,
                rate=0,
                max_ticks=ticks,
                clock="simulated",
                start=START,
                install_signal_handlers=False,
                progress_interval_s=2.0,
            ),
            {"bootstrap.servers": bootstrap},
        )
        return result.to_dict()
    finally:
        admin.delete_topics([topic])[topic].result(timeout=30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap", default="127.0.0.1:9092")
    p.add_argument("--ticks", type=int, default=2_000_000, help="ticks per stage")
    p.add_argument("--block", type=int, default=8192)
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--skip-kafka", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    rows = []
    model_rate = bench_model(args.ticks, args.block)
    rows.append(("model (tick arrays)", model_rate, "target >= 1,000,000"))
    enc_rate, avg_bytes = bench_encode(args.ticks, args.block)
    rows.append(("JSON encode (+keys)", enc_rate, f"avg {avg_bytes:.0f} B/message"))
    kafka = None
    if not args.skip_kafka:
        kafka = bench_kafka(args.bootstrap, args.ticks, args.partitions)
        rows.append(("produced + acked (acks=all)", kafka["rate"], "target >= 200,000"))
    print(f"{'stage':<30}{'ticks/s':>14}{'x original (1 msg/s)':>24}  note")
    for name, rate, note in rows:
        print(f"{name:<30}{rate:>14,.0f}{rate / ORIGINAL_RATE:>24,.0f}  {note}")
    if kafka:
        print("kafka run:", json.dumps(kafka))


if __name__ == "__main__":
    main()
