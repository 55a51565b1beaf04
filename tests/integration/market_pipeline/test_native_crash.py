"""A native crash in the decoder kills the ingest mid-window: the gap it leaves is visible (no manifest,
half-written objects named), and the retry completes the window with every tick once.

The crash is real: the decoder's test-only hook (PIPELINE_TEST_NATIVE_CRASH_MARKER) makes the fast
path kill its own process with SIGSEGV when a batch holds the marker, as pyarrow's JSON reader did on
a top-level null. The hook stays set for the retry, so only the safe (pure Python) mode can pass.
"""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import pytest

from market_pipeline.coverage import find_gaps, interval_coverage
from market_pipeline.layout import attempt_key, manifest_key
from market_pipeline.manifest import read_manifest
from tests.ingest_lake import TABLE, IngestLake, lake_for
from tests.ticks import encode, make_ticks, ms_to_dt

pytestmark = pytest.mark.integration

CRASH = {"PIPELINE_TEST_NATIVE_CRASH_MARKER": "CRASHME"}


@pytest.fixture
def lake(kafka_bootstrap, aws_endpoint, kafka_topic, s3_bucket, boto_client) -> IngestLake:
    return lake_for(kafka_bootstrap, aws_endpoint, kafka_topic(3, prefix="crash"), s3_bucket, boto_client("s3"))


def test_a_native_crash_leaves_a_visible_gap_and_the_retry_completes_the_window_with_every_tick_once(lake):
    ticks = make_ticks(660, datetime(2026, 11, 25, 9, 58, tzinfo=UTC), step=timedelta(milliseconds=400), seed=3)
    ticks[480] = {**ticks[480], "symbol": "CRASHME"}  # a valid tick, late in window B (after some chunks)
    records = [(t["symbol"].encode(), encode(t), i % 3) for i, t in enumerate(ticks)]
    phase_a = lake.produce_phase(records[:30])
    phase_b = lake.produce_phase(records[30:630])
    phase_c = lake.produce_phase(records[630:])
    a_start = ms_to_dt(min(d.timestamp_ms for d in phase_a))
    a_end, b_end, c_end = (ms_to_dt(max(d.timestamp_ms for d in phase) + 1) for phase in (phase_a, phase_b, phase_c))
    lake.produce_phase([(b"AAPL", encode(ticks[0]), p) for p in range(3)])  # closes every window at once

    assert lake.ingest(a_start, a_end, chunk_size=40).rows_out == 30
    crashed = lake.ingest_in_child(a_end, b_end, env=CRASH, chunk_size=40)
    assert crashed.returncode == -signal.SIGSEGV, crashed.stderr[-3000:]
    assert read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, b_end)) is None
    assert json.loads(lake.objects()[attempt_key(TABLE, b_end)])["state"] == "running"  # nobody could say
    assert lake.ingest(b_end, c_end, chunk_size=40).rows_out == 30  # a later window commits past the dead one

    # The gap is visible: no manifest for B while C has one, B's offsets, and what the dead attempt wrote.
    neighbours = [read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, end)) for end in (a_end, c_end)]
    listed = {o.key for m in neighbours if m is not None for o in m.objects}
    half_written = sorted(k for k in lake.keys("raw/") if k not in listed)
    assert half_written, "chunks before the crash were written: the window died half-written"
    (gap,) = find_gaps(lake.s3, lake.bucket, TABLE)
    assert (gap.start, gap.end, gap.messages) == (a_end, b_end, 600)
    assert list(gap.unlisted) == half_written
    coverage = interval_coverage(lake.s3, lake.bucket, TABLE, a_end, b_end)
    assert (
        coverage.message.startswith("no manifest: ingest did not complete") and list(coverage.unlisted) == half_written
    )

    retried = lake.ingest_in_child(a_end, b_end, env=CRASH, chunk_size=40)
    assert retried.returncode == 0, retried.stderr[-3000:]
    result = json.loads(retried.stdout.strip().splitlines()[-1])
    assert result["decode_mode"] == "safe" and result["rows_out"] == 600 and result["dlq_count"] == 0
    assert lake.keys("_attempts/") == []
    assert find_gaps(lake.s3, lake.bucket, TABLE) == []
    assert interval_coverage(lake.s3, lake.bucket, TABLE, a_end, b_end).unlisted == ()

    table = lake.table()
    landed = sorted(zip(table["kafka_partition"].to_pylist(), table["kafka_offset"].to_pylist(), strict=True))
    assert landed == sorted((d.partition, d.offset) for d in phase_a + phase_b + phase_c), "every tick exactly once"
    assert sorted(zip(table["symbol"].to_pylist(), table["seq"].to_pylist(), strict=True)) == sorted(
        (t["symbol"], t["seq"]) for t in ticks
    )
    manifest = read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, b_end))
    assert manifest is not None and set(half_written) <= {o.key for o in manifest.data_objects}

    # The safe mode wrote what the fast path writes: a fast rerun (no crash hook) changes no byte.
    safe_objects = lake.objects()
    rerun = lake.ingest_in_child(a_end, b_end, chunk_size=40)
    assert rerun.returncode == 0 and json.loads(rerun.stdout.strip().splitlines()[-1])["decode_mode"] == "fast"
    assert lake.objects() == safe_objects
