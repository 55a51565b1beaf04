"""ingest_window against the real Kafka broker and the S3 endpoint.

Windows are defined by broker timestamps (LogAppendTime), so each test produces in phases, reads the
broker timestamps from the delivery reports and puts the window boundaries between the phases.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from confluent_kafka import Consumer, TopicPartition

from market_pipeline.ingest.kafka_window import (
    BrokerUnavailableError,
    WindowExpiredError,
    WindowNotClosedError,
    window_consumer_config,
)
from market_pipeline.ingest.run import BadShareExceededError, IngestOptions, WindowResult, ingest_window
from market_pipeline.layout import manifest_key, parse_key
from market_pipeline.manifest import Manifest, read_manifest
from tests.support import wait_for
from tests.ticks import Delivered, encode, make_ticks, ms_to_dt, produce

pytestmark = pytest.mark.integration

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


@pytest.fixture
def stack(kafka_bootstrap, kafka_topic, s3_bucket, boto_client) -> Stack:
    return Stack(
        kafka_bootstrap, kafka_topic(3, prefix="ingest"), s3_bucket, boto_client("s3"), f"g_{uuid.uuid4().hex[:8]}"
    )


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


def test_every_tick_lands_exactly_once_with_one_object_per_hour_per_partition(stack):
    produce_phase(stack, ticks_records(make_ticks(30, HOUR_EDGE - timedelta(hours=1))))
    ticks = make_ticks(300, HOUR_EDGE, step=timedelta(milliseconds=3))  # 09:59:59.5 .. 10:00:00.4
    inside = produce_phase(stack, ticks_records(ticks))
    close_windows(stack)
    start, end = window_around(inside)

    result = stack.ingest(start, end)

    assert (result.messages_in, result.rows_out, result.dlq_count) == (300, 300, 0)
    table = stack.table()
    assert actual_rows(table) == expected_rows(inside)
    assert table.num_rows == len(
        set(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    )
    # Row by row: every column equals what was produced.
    produced = {(t["symbol"], t["seq"]): i for i, t in enumerate(ticks)}
    assert len(produced) == len(ticks)
    for row in table.to_pylist():
        i = produced[(row["symbol"], row["seq"])]
        tick = ticks[i]
        assert row["price"] == tick["price"] and row["size"] == tick["size"] and row["bid"] == tick["bid"]
        assert row["event_time"].strftime("%Y-%m-%dT%H:%M:%S.%fZ") == tick["event_time"]
        assert row["ingested_at"] == ms_to_dt(inside[i].timestamp_ms)

    keys = [parse_key(k) for k in stack.objects("raw/")]
    assert sorted((k.hour, k.partition) for k in keys) == [(9, 0), (9, 1), (9, 2), (10, 0), (10, 1), (10, 2)]
    for key, body in stack.objects("raw/").items():
        parts = parse_key(key)
        obj = pq.read_table(io.BytesIO(body))
        offsets = obj["kafka_offset"].to_pylist()
        assert offsets == sorted(offsets) and (offsets[0], offsets[-1]) == (parts.first_offset, parts.last_offset)
        assert {t.hour for t in obj["event_time"].to_pylist()} == {parts.hour}

    manifest = read_manifest(stack.s3, stack.bucket, manifest_key(TABLE, end))
    assert manifest is not None and manifest.status == "ok"
    assert (manifest.messages_in, manifest.rows_out, manifest.dlq_count) == (300, 300, 0)
    assert {o.key for o in manifest.data_objects} == set(stack.objects("raw/"))
    assert sum(o.rows for o in manifest.data_objects) == 300
    # The consumer group's committed offsets are the window's end offsets.
    ends = {p.partition: p.end_offset for p in manifest.partitions}
    assert stack.committed() == ends == {p: max(d.offset for d in inside if d.partition == p) + 1 for p in range(3)}


def test_rerun_rewrites_identical_keys_and_bytes(stack):
    inside = produce_phase(stack, ticks_records(make_ticks(120, HOUR_EDGE, step=timedelta(milliseconds=5))))
    close_windows(stack)
    start, end = window_around(inside)
    stack.ingest(start, end)
    first_objects, first_etags = stack.objects(), stack.etags()
    stack.ingest(start, end)
    assert stack.objects() == first_objects
    etags = stack.etags()
    for listing in (first_etags, etags):
        wrong = {k: v for k, v in listing.items() if v.strip('"') != hashlib.md5(first_objects[k]).hexdigest()}
        assert not wrong, f"the S3 endpoint lists ETags that are not the MD5 of the stored bytes: {wrong}"
    assert etags == first_etags
    assert any(k.startswith("_manifests/") for k in first_objects)


def test_older_window_rerun_after_a_newer_one_reproduces_its_objects(stack):
    older = produce_phase(stack, ticks_records(make_ticks(60, HOUR_EDGE - timedelta(hours=2), seed=1)))
    newer = produce_phase(stack, ticks_records(make_ticks(90, HOUR_EDGE, seed=2)))
    close_windows(stack)
    old_start, old_end = window_around(older)
    new_start, new_end = window_around(newer)
    assert old_end <= new_start

    stack.ingest(old_start, old_end)
    older_snapshot = stack.objects()
    stack.ingest(new_start, new_end)
    both = stack.objects()
    committed_after_newer = stack.committed()

    stack.ingest(old_start, old_end)  # backfill / clear of the older window
    assert stack.objects() == both
    assert all(both[k] == v for k, v in older_snapshot.items())
    assert stack.committed() == committed_after_newer  # a backfill never rewinds the group
    assert actual_rows(stack.table()) == expected_rows(older + newer)


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


def test_bad_messages_land_in_the_dlq_with_reasons_and_good_ones_land(stack):
    delivered, reasons = produce_with_bad(stack)
    close_windows(stack)
    start, end = window_around(delivered)
    result = stack.ingest(start, end, IngestOptions(grace_seconds=60, max_bad_share=0.5))
    assert (result.messages_in, result.rows_out, result.dlq_count) == (100, 92, 8)

    dlq = stack.table("dlq/")
    got = {
        (p, o): r
        for p, o, r in zip(
            dlq["kafka_partition"].to_pylist(), dlq["kafka_offset"].to_pylist(), dlq["reason"].to_pylist(), strict=True
        )
    }
    assert got == reasons
    raw_by_offset = {(d.partition, d.offset): d.value for d in delivered}
    for row in dlq.to_pylist():
        assert row["raw"] == raw_by_offset[(row["kafka_partition"], row["kafka_offset"])]
        assert row["key"] == b"BAD" and row["broker_timestamp"] >= start
    good = {(d.partition, d.offset) for d in delivered} - set(reasons)
    raw = stack.table()
    assert set(zip(raw["kafka_partition"].to_pylist(), raw["kafka_offset"].to_pylist(), strict=True)) == good


def test_bad_share_above_the_limit_fails_after_writing_everything(stack):
    delivered, _ = produce_with_bad(stack)
    close_windows(stack)
    start, end = window_around(delivered)
    with pytest.raises(BadShareExceededError, match="8 of 100") as excinfo:
        stack.ingest(start, end, IngestOptions(grace_seconds=60, max_bad_share=0.01))
    assert excinfo.value.result.rows_out == 92
    manifest = read_manifest(stack.s3, stack.bucket, manifest_key(TABLE, end))
    assert manifest is not None and manifest.status == "bad_share_exceeded"
    assert stack.table().num_rows == 92 and stack.table("dlq/").num_rows == 8


def test_empty_window_writes_an_empty_manifest_and_no_data(stack):
    before = produce_phase(stack, ticks_records(make_ticks(9, HOUR_EDGE)))
    gap_start = ms_to_dt(max(d.timestamp_ms for d in before) + 1)
    wait_for(lambda: datetime.now(UTC) > gap_start + timedelta(milliseconds=50), 5, "a gap")
    gap_end = ms_to_dt(int(time.time() * 1000))
    close_windows(stack)
    result = stack.ingest(gap_start, gap_end)
    assert (result.messages_in, result.data_objects, result.dlq_objects) == (0, 0, 0)
    assert not stack.objects("raw/") and not stack.objects("dlq/")
    manifest = read_manifest(stack.s3, stack.bucket, manifest_key(TABLE, gap_end))
    assert manifest is not None and manifest.objects == () and manifest.messages_in == 0
    assert all(p.start_offset == p.end_offset == 3 for p in manifest.partitions)


def test_broker_down_fails_within_bounded_time(stack):
    consumer = stack.consumer(bootstrap="127.0.0.1:1")  # nothing listens there
    began = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match="did not answer"):
        ingest_window(
            consumer,
            stack.s3,
            bucket=stack.bucket,
            table=TABLE,
            topic=stack.topic,
            window_start=datetime(2026, 1, 1, tzinfo=UTC),
            window_end=datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
            options=IngestOptions(kafka_timeout=3),
        )
    assert time.monotonic() - began < 15
    assert not stack.objects()


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


def test_s3_failure_mid_window_leaves_no_manifest_and_the_retry_completes_without_duplicates(stack):
    inside = produce_phase(stack, ticks_records(make_ticks(300, HOUR_EDGE, step=timedelta(milliseconds=2))))
    close_windows(stack)
    start, end = window_around(inside)
    small_chunks = IngestOptions(grace_seconds=60, chunk_size=20)
    with pytest.raises(ConnectionError, match="injected"):
        stack.ingest(start, end, small_chunks, s3=FailingS3(stack.s3, fail_on=4))
    assert read_manifest(stack.s3, stack.bucket, manifest_key(TABLE, end)) is None
    assert stack.objects("raw/")  # some objects made it before the failure
    assert stack.committed() == {0: -1001, 1: -1001, 2: -1001}  # nothing committed

    result = stack.ingest(start, end, small_chunks)
    assert result.rows_out == 300
    table = stack.table()
    assert actual_rows(table) == expected_rows(inside)
    manifest = read_manifest(stack.s3, stack.bucket, manifest_key(TABLE, end))
    assert isinstance(manifest, Manifest) and {o.key for o in manifest.data_objects} == set(stack.objects("raw/"))


def test_rerun_with_another_chunk_size_replaces_the_old_objects(stack):
    inside = produce_phase(stack, ticks_records(make_ticks(150, HOUR_EDGE)))
    close_windows(stack)
    start, end = window_around(inside)
    stack.ingest(start, end, IngestOptions(grace_seconds=60, chunk_size=10))
    many = set(stack.objects("raw/"))
    result = stack.ingest(start, end, IngestOptions(grace_seconds=60, chunk_size=1000))
    fewer = set(stack.objects("raw/"))
    assert len(fewer) == result.data_objects < len(many)
    assert result.stale_objects_deleted == len(many - fewer) > 0
    assert actual_rows(stack.table()) == expected_rows(inside)


def test_window_older_than_retention_fails_clearly(stack, kafka_admin):
    old = produce_phase(stack, ticks_records(make_ticks(30, HOUR_EDGE)))
    close_windows(stack)
    start, end = window_around(old)
    # What retention does, made immediate: delete the old records on every partition.
    futures = kafka_admin.delete_records([TopicPartition(stack.topic, p, 10) for p in range(3)])
    for future in futures.values():
        future.result(timeout=30)
    with pytest.raises(WindowExpiredError, match="retention"):
        stack.ingest(start, end)
    assert read_manifest(stack.s3, stack.bucket, manifest_key(TABLE, end)) is None


def test_open_window_is_refused_without_waiting(stack):
    now = datetime.now(UTC)
    began = time.monotonic()
    with pytest.raises(WindowNotClosedError, match="open window"):
        stack.ingest(now, now + timedelta(minutes=10), IngestOptions(grace_seconds=30, max_wait_seconds=5))
    assert time.monotonic() - began < 5


def test_window_waits_for_grace_when_partitions_are_idle(stack):
    inside = produce_phase(stack, ticks_records(make_ticks(6, HOUR_EDGE)))
    start, end = window_around(inside)
    began = time.monotonic()
    result = stack.ingest(start, end, IngestOptions(grace_seconds=2))  # no later message: closed by grace
    assert result.rows_out == 6
    waited = time.monotonic() - began
    assert waited >= 2 - (time.time() - end.timestamp()) - 0.5
