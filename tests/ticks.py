"""Ticks for tests, from the simulator itself with a fixed seed, and a producer that records where each
message landed (partition, offset, broker LogAppendTime timestamp).

The tick content (symbols, prices, quotes, trades, sizes, per-symbol sequence numbers) is the
simulator's; the event times are set by the test, evenly spaced from `start` (as the simulator stamps a
wall-clock run), so a test can put ticks exactly around an hour or a day boundary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from confluent_kafka import Producer

from simulator.calendar import SessionClock, TradingCalendar, to_us
from simulator.encode import SCHEMA_VERSION, JsonEncoder, iso_us
from simulator.model import PRICE_SCALE, MarketModel, ModelConfig, TickBlock
from simulator.universe import EXCHANGES, parse_universe

SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META")


def make_ticks(count: int, start: datetime, step: timedelta = timedelta(milliseconds=250), seed: int = 0) -> list[dict]:
    """`count` valid ticks from the simulator (seeded), event_time from `start` in `step`s, as dicts."""
    block = tick_block(count, start, step, seed)
    return [json.loads(value) for value in JsonEncoder(block.symbols).encode(block)]


def tick_block(count: int, start: datetime, step: timedelta, seed: int = 0) -> TickBlock:
    first_us = to_us(start)
    model = MarketModel(
        ModelConfig(instruments=parse_universe(SYMBOLS), seed=seed),
        SessionClock(TradingCalendar(always_open=True), first_us),
    )
    block = model.next_block(count)
    step_us = step // timedelta(microseconds=1)
    block.event_us = first_us + step_us * np.arange(count, dtype=np.int64)
    return block


def tick_records(block: TickBlock) -> list[dict[str, object]]:
    """The ticks of a block as message dicts, field by field in plain Python (slow; the encoder's oracle)."""
    out = []
    for i in range(len(block)):
        trade = bool(block.is_trade[i])
        out.append(
            {
                "schema_version": SCHEMA_VERSION,
                "event_type": "trade" if trade else "quote",
                "symbol": block.symbols[block.sym[i]],
                "event_time": iso_us(int(block.event_us[i])),
                "seq": int(block.seq[i]),
                "exchange": EXCHANGES[block.exch[i]],
                "price": int(block.price[i]) / PRICE_SCALE,
                "size": int(block.size[i]) if trade else None,
                "bid": int(block.bid[i]) / PRICE_SCALE,
                "bid_size": int(block.bid_size[i]),
                "ask": int(block.ask[i]) / PRICE_SCALE,
                "ask_size": int(block.ask_size[i]),
            }
        )
    return out


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
