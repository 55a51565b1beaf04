"""A native crash in the decoder kills the ingest mid-window; the retry completes it, every tick once.

The crash is real: the decoder's test-only hook (PIPELINE_TEST_NATIVE_CRASH_MARKER) makes the fast
path kill its own process with SIGSEGV when a batch holds the marker, as pyarrow's JSON reader did on
a top-level null. The hook stays set for the retry, so only the safe (pure Python) mode can pass.
"""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import pytest

from market_pipeline.layout import attempt_key, manifest_key
from market_pipeline.manifest import read_manifest
from tests.ingest_lake import TABLE, IngestLake, lake_for, window_around
from tests.ticks import encode, make_ticks

pytestmark = pytest.mark.integration

CRASH = {"PIPELINE_TEST_NATIVE_CRASH_MARKER": "CRASHME"}


@pytest.fixture
def lake(kafka_bootstrap, aws_endpoint, kafka_topic, s3_bucket, boto_client) -> IngestLake:
    return lake_for(kafka_bootstrap, aws_endpoint, kafka_topic(3, prefix="crash"), s3_bucket, boto_client("s3"))


def test_the_retry_after_a_native_crash_completes_the_window_with_every_tick_once(lake):
    ticks = make_ticks(600, datetime(2026, 11, 25, 9, 58, tzinfo=UTC), step=timedelta(milliseconds=400), seed=3)
    ticks[450] = {**ticks[450], "symbol": "CRASHME"}  # a valid tick, late in the window (after some chunks)
    records = [(t["symbol"].encode(), encode(t), i % 3) for i, t in enumerate(ticks)]
    delivered = lake.produce_phase(records)
    lake.produce_phase([(b"AAPL", encode(ticks[0]), p) for p in range(3)])  # closes the window
    start, end = window_around(delivered)

    crashed = lake.ingest_in_child(start, end, env=CRASH, chunk_size=40)
    assert crashed.returncode == -signal.SIGSEGV, crashed.stderr[-3000:]
    assert read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, end)) is None
    marker = json.loads(lake.objects()[attempt_key(TABLE, end)])
    assert marker["state"] == "running"  # nobody could record the crash
    half_written = lake.keys("raw/")
    assert half_written, "chunks before the crash were written: the window died half-written"

    retried = lake.ingest_in_child(start, end, env=CRASH, chunk_size=40)
    assert retried.returncode == 0, retried.stderr[-3000:]
    result = json.loads(retried.stdout.strip().splitlines()[-1])
    assert result["decode_mode"] == "safe" and result["rows_out"] == 600 and result["dlq_count"] == 0
    assert attempt_key(TABLE, end) not in lake.keys("_attempts/")

    table = lake.table()
    landed = sorted(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert landed == sorted((d.partition, d.offset) for d in delivered), "every tick exactly once"
    assert sorted(zip(table["symbol"].to_pylist(), table["seq"].to_pylist(), strict=True)) == sorted(
        (t["symbol"], t["seq"]) for t in ticks
    )
    manifest = read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, end))
    assert manifest is not None and {o.key for o in manifest.data_objects} == set(lake.keys("raw/"))
    assert set(half_written) <= set(lake.keys("raw/")), "the retry rewrote the half-written objects' keys"

    # The safe mode wrote what the fast path writes: a fast rerun (no crash hook) changes no byte.
    safe_objects = lake.objects()
    rerun = lake.ingest_in_child(start, end, chunk_size=40)
    assert rerun.returncode == 0 and json.loads(rerun.stdout.strip().splitlines()[-1])["decode_mode"] == "fast"
    assert lake.objects() == safe_objects
