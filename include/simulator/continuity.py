"""How a run continues the last one: a seed of its own, prices and sequence numbers that start where the
market left off.

A continuous feed is a chain of runs. With one fixed seed every run would replay the same price path;
:func:`derive_seed` gives each run its own, from its id (recorded in the run's summary, so a run can be
reproduced). :func:`last_ticks` reads each symbol's newest tick on the topic, so the next run starts
at its price and numbers its ticks after its `seq`. The sequence matters more than the price: bars
take open and close by `seq`, so a run that numbered from 1 again would tie with (and sort before) the
previous run's ticks in a minute that holds both. Why the topic: it is what downstream saw. A run that
starts from the universe's reference prices would draw a jump back on every chart at each run boundary;
a previous run's own summary is not always there (it failed, the metadata was reset, another tool
produced).
Reading the tail of each partition is cheap (``lookback`` messages per partition) and needs no state.
"""

from __future__ import annotations

import json
import logging
import math
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("simulator")

DEFAULT_LOOKBACK = 20_000  # messages per partition: minutes of traffic at the default rates
# The stop reason of a run that ended early because another run was waiting to start (the DAG's choice).
HANDED_OVER = "handed over to a queued run"


def derive_seed(run_id: str) -> int:
    """A seed of the run's own (1 .. 2**31-1), the same for the same run id."""
    return zlib.crc32(run_id.encode()) % (2**31 - 1) + 1


@dataclass(frozen=True)
class LastTick:
    """Where the next run continues a symbol: its newest price on the topic and the highest seq there."""

    price: float
    seq: int


def last_ticks(
    consumer: Any,
    topic: str,
    symbols: Iterable[str] | None,
    lookback: int = DEFAULT_LOOKBACK,
    timeout_s: float = 10.0,
) -> dict[str, LastTick]:
    """The newest tick of each wanted symbol in the last `lookback` messages of every partition.

    `consumer` is an unsubscribed confluent-kafka Consumer (partitions are assigned here; nothing is
    committed). `symbols` None: every symbol. Symbols with no message in that tail are left out; messages
    that are not ticks are skipped.
    """
    wanted = None if symbols is None else set(symbols)
    from confluent_kafka import TopicPartition

    metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return {}
    ranges: dict[int, tuple[int, int]] = {}
    for partition in metadata.partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
        if high > low:
            ranges[partition] = (max(low, high - lookback), high)
    newest: dict[str, tuple[int, int, float]] = {}  # symbol -> (partition, offset, price)
    top_seq: dict[str, int] = {}  # symbol -> highest seq, apart in case a producer outside the chain numbered lower
    if not ranges:
        return {}
    consumer.assign([TopicPartition(topic, p, start) for p, (start, _) in ranges.items()])
    try:
        pending = {p for p, (start, end) in ranges.items() if end > start}
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(10_000, timeout=1.0):
                if message.error() is not None:
                    continue
                partition, offset = message.partition(), message.offset()
                if offset >= ranges[partition][1] - 1:
                    pending.discard(partition)
                tick = _tick(message.value())
                if tick is not None and (wanted is None or tick[0] in wanted):
                    symbol, seen = tick
                    top_seq[symbol] = max(seen.seq, top_seq.get(symbol, 0))
                    # A symbol lives in one partition (keyed), so offsets order its ticks.
                    if symbol not in newest or (partition, offset) > newest[symbol][:2]:
                        newest[symbol] = (partition, offset, seen.price)
        if pending:
            log.warning(
                "read the tail of %s partially within %.0f s (partitions %s)", topic, timeout_s, sorted(pending)
            )
    finally:
        consumer.unassign()
    return {symbol: LastTick(price, top_seq[symbol]) for symbol, (_, _, price) in newest.items()}


def continue_from(tail: Mapping[str, LastTick], prices: bool) -> dict[str, Any]:
    """SimulatorConfig arguments that go on from `tail`: the seqs always, the prices when `prices`."""
    return {
        "start_seqs": {symbol: t.seq for symbol, t in tail.items()} or None,
        "start_prices": ({symbol: t.price for symbol, t in tail.items()} or None) if prices else None,
    }


def _tick(value: bytes | None) -> tuple[str, LastTick] | None:
    """(symbol, its price and seq) of a tick; None for anything else (the topic is outside input)."""
    try:
        doc = json.loads(value or b"")
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    symbol, price, seq = doc.get("symbol"), doc.get("price"), doc.get("seq")
    if not isinstance(symbol, str) or type(price) not in (int, float) or type(seq) is not int:
        return None
    try:
        price = float(price)  # an integer too large for a float raises
    except OverflowError:
        return None
    return (symbol, LastTick(price, seq)) if 0 < price < math.inf and seq >= 0 else None
