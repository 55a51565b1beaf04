"""Test helper for the ingest tests: a small deterministic tick generator and a producer that records
where each message landed (partition, offset, broker LogAppendTime timestamp).

Deliberately independent of include/simulator (built concurrently by someone else).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confluent_kafka import Producer

SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META")


def make_ticks(count: int, start: datetime, step: timedelta = timedelta(milliseconds=250), seed: int = 0) -> list[dict]:
    """`count` valid ticks, event_time from `start` in `step`s; trades and quotes alternate-ish."""
    ticks = []
    for i in range(count):
        symbol = SYMBOLS[(i + seed) % len(SYMBOLS)]
        base = 100.0 + 10 * SYMBOLS.index(symbol) + ((i * 7 + seed) % 100) / 100
        bid = round(base - 0.01, 2)
        ask = round(base + 0.01, 2)
        is_trade = (i + seed) % 3 == 0
        moment = start + step * i
        ticks.append(
            {
                "schema_version": 1,
                "event_type": "trade" if is_trade else "quote",
                "symbol": symbol,
                "event_time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "seq": i,
                "exchange": "XNAS",
                "price": round(base, 2),
                "size": 100 + i % 5 if is_trade else None,
                "bid": bid,
                "bid_size": 300,
                "ask": ask,
                "ask_size": 200,
            }
        )
    return ticks


def encode(tick: dict) -> bytes:
    return json.dumps(tick, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Delivered:
    """Where the broker put one produced message."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


def produce(
    bootstrap: str,
    topic: str,
    records: list[tuple[bytes | None, bytes | None, int]],
    timeout: float = 30.0,
) -> list[Delivered]:
    """Produce (key, value, partition) records in order and return their delivery reports in order."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    reports: dict[int, Delivered] = {}
    errors: list[str] = []

    def on_delivery(index: int):
        def callback(err, msg) -> None:
            if err is not None:
                errors.append(str(err))
                return
            reports[index] = Delivered(msg.partition(), msg.offset(), msg.timestamp()[1], msg.key(), msg.value())

        return callback

    for index, (key, value, partition) in enumerate(records):
        producer.produce(topic, value=value, key=key, partition=partition, on_delivery=on_delivery(index))
        producer.poll(0)
    remaining = producer.flush(timeout)
    assert remaining == 0 and not errors, f"produce failed: {remaining} undelivered, errors {errors}"
    return [reports[i] for i in range(len(records))]


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
