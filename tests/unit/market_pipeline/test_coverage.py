"""Gaps between ingest windows and objects no manifest lists, found from manifests and listings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from market_pipeline import layout
from market_pipeline.catalog import report as validation
from market_pipeline.coverage import find_gaps, interval_coverage
from market_pipeline.manifest import previous_manifest
from tests.fakes import FakeS3, lake_window

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def lake_with_a_dead_window() -> tuple[FakeS3, list[str]]:
    s3 = FakeS3()
    lake_window(s3, T0, {0: (0, 10), 1: (0, 8)})
    dead = lake_window(s3, T0 + FIVE, {0: (10, 15)}, manifest=False)  # died after writing partition 0 only
    lake_window(s3, T0 + 2 * FIVE, {0: (20, 30), 1: (12, 20)})
    return s3, dead


def test_a_missing_window_between_two_is_a_gap_with_its_offsets_and_half_written_objects():
    s3, dead = lake_with_a_dead_window()
    (gap,) = find_gaps(s3, "lake", "ticks", interval=FIVE)
    assert (gap.start, gap.end) == (T0 + FIVE, T0 + 2 * FIVE)
    assert dict(gap.missing_offsets) == {0: (10, 20), 1: (8, 12)} and gap.messages == 14
    assert list(gap.unlisted) == dead
    shown = gap.to_dict(FIVE)
    assert shown["intervals"] == 1 and shown["unlisted_keys"] == dead and shown["start"] == "2026-11-25T10:05:00Z"
    assert find_gaps(s3, "lake", "ticks", since=T0 + 2 * FIVE) == []  # only windows ending after `since`


def test_the_newest_missing_window_is_not_a_gap_yet():
    s3 = FakeS3()
    lake_window(s3, T0, {0: (0, 10)})
    lake_window(s3, T0 + FIVE, {0: (10, 12)}, manifest=False)
    assert find_gaps(s3, "lake", "ticks", interval=FIVE) == []


def test_an_interval_without_a_manifest_says_so_and_names_what_its_attempt_left():
    s3, dead = lake_with_a_dead_window()
    coverage = interval_coverage(s3, "lake", "ticks", T0 + FIVE, T0 + 2 * FIVE)
    assert not coverage.complete and list(coverage.unlisted) == dead
    assert coverage.message.startswith("no manifest: ingest did not complete") and "gap" in coverage.message
    report = validation.build_report(
        "ticks",
        T0 + FIVE,
        T0 + 2 * FIVE,
        {"rows": 0, "messages": 0, "dlq": 0, "windows": []},
        None,
        {},
        None,
        coverage=coverage,
    )
    failed = {c["name"]: c for c in report["checks"] if not c["passed"]}
    assert failed["manifest_present"]["message"].startswith("no manifest: ingest did not complete")
    assert dead[0] in failed["no_unlisted_objects"]["message"]
    assert failed["validation_query"]["message"].startswith("not run: no manifest")
    assert report["status"] == "failed" and report["coverage"]["unlisted_keys"] == dead
    assert "no manifest: ingest did not complete" in validation.failure_summary(report)


def test_a_stale_object_inside_a_complete_windows_offsets_fails_the_reconciliation_by_key():
    s3 = FakeS3()
    lake_window(s3, T0, {0: (0, 10)})
    stale = layout.data_key("ticks", "topic", 0, 0, 4, dt="2026-11-25", hour=10)  # another chunking's object
    s3.put_object(Bucket="lake", Key=stale, Body=b"parquet")
    other_topic = layout.data_key("ticks", "other", 0, 0, 4, dt="2026-11-25", hour=10)
    s3.put_object(Bucket="lake", Key=other_topic, Body=b"parquet")
    coverage = interval_coverage(s3, "lake", "ticks", T0, T0 + FIVE)
    assert coverage.complete and list(coverage.unlisted) == [stale]
    stats = {"row_count": "15", "stale_seconds": "0"}
    report = validation.build_report(
        "ticks",
        T0,
        T0 + FIVE,
        {"rows": 10, "messages": 10, "dlq": 0, "windows": []},
        stats,
        {},
        None,
        coverage=coverage,
    )
    failed = {c["name"]: c for c in report["checks"] if not c["passed"]}
    assert set(failed) == {"row_count_matches_manifests", "no_unlisted_objects"}
    assert stale in failed["row_count_matches_manifests"]["message"]


def test_the_previous_manifest_is_found_across_a_day_boundary():
    s3 = FakeS3()
    lake_window(s3, datetime(2026, 11, 24, 23, 50, tzinfo=UTC), {0: (0, 3)})
    found = previous_manifest(s3, "lake", "ticks", datetime(2026, 11, 25, 0, 30, tzinfo=UTC))
    assert found is not None and found.window_end == datetime(2026, 11, 24, 23, 55, tzinfo=UTC)
    assert previous_manifest(s3, "lake", "ticks", datetime(2026, 11, 24, 23, 54, tzinfo=UTC)) is None
