"""Retention empties a partition: later windows (empty, or with new data) succeed; a window whose
messages really were deleted fails clearly and is not rewritten. The broker is stopped while offsets
are resolved: a broker-unavailable error.

Retention is made immediate with AdminClient.delete_records (what retention does to the log start
offset, without waiting for a segment to expire). The ingest runs as the DAG runs it: with an admin
client, so it reads the topic's retention.ms / retention.bytes from the broker.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from market_pipeline.ingest.kafka_window import (
    BrokerUnavailableError,
    Window,
    WindowExpiredError,
    resolve_offsets,
    topic_partitions,
    window_consumer_config,
)
from market_pipeline.layout import manifest_key
from market_pipeline.manifest import read_manifest
from tests.ingest_lake import TABLE, IngestLake, lake_for, window_around
from tests.support import ROOT, wait_for
from tests.ticks import encode, make_ticks, ms_to_dt

pytestmark = pytest.mark.integration

EVENTS = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def records(count: int, seed: int) -> list[tuple[bytes, bytes, int]]:
    ticks = make_ticks(count, EVENTS, seed=seed)
    return [(t["symbol"].encode(), encode(t), i % 3) for i, t in enumerate(ticks)]


def delete_everything(admin: AdminClient, lake: IngestLake) -> None:
    """Retention, made immediate: every partition's log start offset moves to its high watermark."""
    topic = lake.topic
    consumer = Consumer({"bootstrap.servers": lake.bootstrap, "group.id": "watermarks"})
    try:
        highs = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(3)]
    finally:
        consumer.close()
    futures = admin.delete_records([TopicPartition(topic, p, high) for p, high in enumerate(highs)])
    for future in futures.values():
        future.result(timeout=30)


def the_clock_passes(moment: datetime) -> datetime:
    wait_for(lambda: datetime.now(UTC) > moment + timedelta(milliseconds=20), 5, "the clock to pass a moment")
    return ms_to_dt(int(time.time() * 1000))


@pytest.fixture
def lake(kafka_bootstrap, aws_endpoint, kafka_topic, s3_bucket, boto_client) -> IngestLake:
    return lake_for(kafka_bootstrap, aws_endpoint, kafka_topic(3, prefix="retention"), s3_bucket, boto_client("s3"))


def test_an_idle_partition_emptied_by_retention_does_not_fail_later_windows(lake, kafka_admin):
    first = lake.produce_phase(records(30, seed=1))
    a_start, a_end = window_around(first)
    a = lake.ingest(a_start, a_end, grace_seconds=0)
    assert a.rows_out == 30
    a_objects = lake.objects()

    delete_everything(kafka_admin, lake)  # the idle topic's messages expire

    b_end = the_clock_passes(a_end)  # a later window with no data at all
    b = lake.ingest(a_end, b_end, grace_seconds=0)
    assert (b.status, b.messages_in, b.data_objects) == ("ok", 0, 0)

    second = lake.produce_phase(records(12, seed=2))  # new data after the quiet spell
    c_end = ms_to_dt(max(d.timestamp_ms for d in second) + 1)
    c = lake.ingest(b_end, c_end, grace_seconds=0)
    assert (c.status, c.rows_out) == ("ok", 12)
    table = lake.table()
    assert sorted(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True)) == sorted(
        (d.partition, d.offset) for d in first + second
    )

    # The first window's messages really were deleted: its rerun fails clearly and rewrites nothing.
    with pytest.raises(WindowExpiredError, match="its messages were deleted"):
        lake.ingest(a_start, a_end, grace_seconds=0)
    assert {k: v for k, v in lake.objects().items() if k in a_objects} == a_objects


def test_a_window_whose_messages_were_deleted_before_it_ran_fails_clearly(lake, kafka_admin):
    first = lake.produce_phase(records(9, seed=3))
    a_start, a_end = window_around(first)
    lake.ingest(a_start, a_end, grace_seconds=0)
    lost = lake.produce_phase(records(9, seed=4))  # appended after window A, deleted before B reads them
    b_end = ms_to_dt(max(d.timestamp_ms for d in lost) + 1)
    delete_everything(kafka_admin, lake)
    with pytest.raises(WindowExpiredError, match="deleted before this window could read them"):
        lake.ingest(a_end, b_end, grace_seconds=0)
    assert read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, b_end)) is None
    # The next window is not held hostage by the lost one: nothing places lost messages in it ...
    c_end = the_clock_passes(b_end)
    assert lake.ingest(b_end, c_end, grace_seconds=0).messages_in == 0


def test_the_topics_retention_is_read_from_the_broker(
    kafka_bootstrap, kafka_topic, aws_endpoint, s3_bucket, boto_client, kafka_admin
):
    """With nothing ingested before, the broker's retention.ms decides: 2 s makes the window too old."""
    short = lake_for(
        kafka_bootstrap,
        aws_endpoint,
        kafka_topic(3, prefix="short", config={"retention.ms": "2000"}),
        s3_bucket,
        boto_client("s3"),
    )
    delivered = short.produce_phase(records(6, seed=5))
    start, end = window_around(delivered)
    delete_everything(kafka_admin, short)
    with pytest.raises(WindowExpiredError, match=r"older than the topic's retention \(2000 ms\)"):
        short.ingest(start, end, grace_seconds=0)


# -- the broker stops while the window's offsets are resolved -----------------------------------------


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own (scripts/kafka.sh on free ports), stopped by the test."""
    from devstack.processes import free_port

    env = {
        **os.environ,
        "STATE_DIR": str(tmp_path),
        "KAFKA_PORT": str(free_port()),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m",
    }
    kafka_sh = str(ROOT / "scripts" / "kafka.sh")
    started = subprocess.run([kafka_sh, "start"], env=env, capture_output=True, text=True, timeout=240)
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        yield (
            f"127.0.0.1:{env['KAFKA_PORT']}",
            lambda: subprocess.run([kafka_sh, "stop"], env=env, capture_output=True, text=True, timeout=120),
        )
    finally:
        subprocess.run([kafka_sh, "stop"], env=env, capture_output=True, text=True, timeout=120)


def test_a_broker_stopped_while_offsets_are_resolved_is_reported_as_unavailable(own_broker):
    bootstrap, stop = own_broker
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("t", 3, 1, config={"message.timestamp.type": "LogAppendTime"})])["t"].result(30)
    consumer = Consumer(window_consumer_config({"bootstrap.servers": bootstrap, "group.id": "g"}))
    try:
        wait_for(lambda: topic_partitions(consumer, "t", 5) == [0, 1, 2], 30, "the topic's metadata")
        assert stop().returncode == 0
        now = datetime.now(UTC)
        with pytest.raises(BrokerUnavailableError, match="unavailable") as excinfo:
            resolve_offsets(consumer, "t", Window(now - timedelta(minutes=5), now), timeout=5)
        assert "_UNKNOWN_PARTITION" not in str(excinfo.value)
    finally:
        consumer.close()
