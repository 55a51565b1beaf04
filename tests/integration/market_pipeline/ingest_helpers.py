"""Helpers for the ingest tests against the real broker and S3 endpoint: a window's stack and its ticks.

Windows are defined by broker timestamps (LogAppendTime), so each test produces in phases, reads the
broker timestamps from the delivery reports and puts the window boundaries between the phases.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from confluent_kafka import Consumer, TopicPartition

from market_pipeline.ingest.kafka_window import window_consumer_config
from market_pipeline.ingest.options import IngestOptions
from market_pipeline.ingest.run import ingest_window
from market_pipeline.ingest.seal import WindowResult
from tests.support import wait_for
from tests.ticks import Delivered, encode, make_ticks, ms_to_dt, produce

TABLE = "ticks"
HOUR_EDGE = datetime(2026, 11, 25, 9, 59, 59, 500_000, tzinfo=UTC)
FAST = IngestOptions(grace_seconds=60, kafka_timeout=10, chunk_size=100_000)


@dataclass
class Stack:
    bootstrap: str
    topic: str
    bucket: str
    s3: object
    group: str

    def consumer(self, bootstrap: str | None = None) -> Consumer:
        config = {"bootstrap.servers": bootstrap or self.bootstrap, "group.id": self.group}
        return Consumer(window_consumer_config(config))

    def ingest(
        self, start: datetime, end: datetime, options: IngestOptions = FAST, s3: object | None = None
    ) -> WindowResult:
        consumer = self.consumer()
        try:
            return ingest_window(
                consumer,
                s3 or self.s3,
                bucket=self.bucket,
                table=TABLE,
                topic=self.topic,
                window_start=start,
                window_end=end,
                options=options,
            )
        finally:
            consumer.close()

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)  # type: ignore[attr-defined]
        keys = [item["Key"] for item in listing.get("Contents", [])]
        assert not listing.get("IsTruncated")
        return {k: self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read() for k in keys}  # type: ignore[attr-defined]

    def etags(self, prefix: str = "") -> dict[str, str]:
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)  # type: ignore[attr-defined]
        return {item["Key"]: item["ETag"] for item in listing.get("Contents", [])}

    def table(self, prefix: str = "raw/") -> pa.Table:
        parts = [pq.read_table(io.BytesIO(body)) for body in self.objects(prefix).values()]
        return pa.concat_tables(parts) if parts else pa.table({})

    def committed(self) -> dict[int, int]:
        consumer = self.consumer()
        try:
            tps = consumer.committed([TopicPartition(self.topic, p) for p in range(3)], timeout=10)
            return {tp.partition: tp.offset for tp in tps}
        finally:
            consumer.close()


def ticks_records(ticks: list[dict]) -> list[tuple[bytes, bytes, int]]:
    """Ticks spread round-robin over 3 partitions, keyed by symbol."""
    return [(t["symbol"].encode(), encode(t), i % 3) for i, t in enumerate(ticks)]


def produce_phase(stack: Stack, records: list[tuple[bytes | None, bytes | None, int]]) -> list[Delivered]:
    """Produce, then wait until the broker clock has moved past the phase (next phase stamps later)."""
    delivered = produce(stack.bootstrap, stack.topic, records)
    last = max(d.timestamp_ms for d in delivered)
    wait_for(lambda: time.time() * 1000 > last + 5, 5, "the clock to pass the phase")
    return delivered


def window_around(delivered: list[Delivered]) -> tuple[datetime, datetime]:
    return ms_to_dt(min(d.timestamp_ms for d in delivered)), ms_to_dt(max(d.timestamp_ms for d in delivered) + 1)


def close_windows(stack: Stack) -> list[Delivered]:
    """One message per partition after everything: closes earlier windows without waiting for grace."""
    return produce_phase(stack, [(b"AAPL", encode(make_ticks(1, HOUR_EDGE)[0]), p) for p in range(3)])


def expected_rows(delivered: list[Delivered]) -> list[tuple[int, int, str, int]]:
    """(partition, offset, symbol, seq) of each produced tick: (symbol, seq) identifies a simulated tick."""
    ticks = [json.loads(d.value) for d in delivered]  # type: ignore[arg-type]
    return sorted((d.partition, d.offset, t["symbol"], t["seq"]) for d, t in zip(delivered, ticks, strict=True))


def actual_rows(table: pa.Table) -> list[tuple[int, int, str, int]]:
    return sorted(
        zip(
            table["kafka_partition"].to_pylist(),
            table["kafka_offset"].to_pylist(),
            table["symbol"].to_pylist(),
            table["seq"].to_pylist(),
            strict=True,
        )
    )


BAD = {
    "invalid_json": b'{"schema_version": 1, "event_type":',
    "not_utf8": b'{"symbol": "\xff"}',
    "unsupported:schema_version": encode({**make_ticks(1, HOUR_EDGE)[0], "schema_version": 7}),
    "out_of_range:price": encode({**make_ticks(1, HOUR_EDGE)[0], "price": -1.0}),
    "bid_above_ask:bid": encode({**make_ticks(1, HOUR_EDGE)[0], "bid": 500.0}),
    "missing_field:symbol": encode({k: v for k, v in make_ticks(1, HOUR_EDGE)[0].items() if k != "symbol"}),
    "null_value": None,
    "oversized": b'{"x": "' + b"y" * 5000 + b'"}',
}


def produce_with_bad(stack: Stack) -> tuple[list[Delivered], dict[tuple[int, int], str]]:
    records = ticks_records(make_ticks(92, HOUR_EDGE))
    for i, value in enumerate(BAD.values()):
        records.insert(10 * i + 3, (b"BAD", value, i % 3))
    delivered = produce_phase(stack, records)
    reasons = {}
    for d, rec in zip(delivered, records, strict=True):
        if rec[0] == b"BAD":
            reasons[(d.partition, d.offset)] = next(r for r, v in BAD.items() if v == rec[1])
    return delivered, reasons


class FailingS3:
    """Delegates to a real S3 client but raises on the Nth PutObject (S3 failing mid-window)."""

    def __init__(self, s3: object, fail_on: int) -> None:
        self._s3, self._fail_on, self.puts = s3, fail_on, 0

    def put_object(self, **kwargs: object) -> object:
        self.puts += 1
        if self.puts == self._fail_on:
            raise ConnectionError("injected S3 failure")
        return self._s3.put_object(**kwargs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Callable:
        return getattr(self._s3, name)
