"""The S3 contract: every key's shape, its round trip, and the instant format in keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from market_pipeline import layout
from market_pipeline.layout import ObjectKey, data_key, dlq_key, format_instant, parse_instant, parse_key

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_data_key_layout_and_round_trip():
    key = data_key("ticks", "stock_market_data", 2, 1500, 1999, "2026-11-25", 9)
    assert key == "raw/ticks/dt=2026-11-25/hour=09/stock_market_data+2+0000001500+0000001999.parquet"
    assert parse_key(key) == ObjectKey("raw", "ticks", "2026-11-25", 9, "stock_market_data", 2, 1500, 1999)


def test_dlq_key_layout_and_round_trip():
    key = dlq_key("ticks", "stock_market_data", 0, 7, 7, "2026-11-25")
    assert key == "dlq/ticks/dt=2026-11-25/stock_market_data+0+0000000007+0000000007.parquet"
    assert parse_key(key) == ObjectKey("dlq", "ticks", "2026-11-25", None, "stock_market_data", 0, 7, 7)


def test_offsets_wider_than_the_padding_still_round_trip():
    key = data_key("ticks", "t", 0, 12_345_678_901, 12_345_678_999, "2026-11-25", 0)
    parts = parse_key(key)
    assert parts is not None and parts.first_offset == 12_345_678_901


def test_other_keys_are_not_parsed_and_bad_topics_are_refused():
    assert parse_key("_manifests/ticks/2026-11-25T10:05:00Z.json") is None
    with pytest.raises(ValueError):
        data_key("ticks", "a+b", 0, 1, 2, "2026-11-25", 0)


def test_instant_format_round_trip():
    assert format_instant(T0) == "2026-11-25T10:00:00Z"
    odd = T0 + timedelta(milliseconds=250)
    assert format_instant(odd) == "2026-11-25T10:00:00.250Z"
    assert parse_instant(format_instant(odd)) == odd


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T10:05:00Z",
        "2026-11-25 10:05:00.000",
        "2026-11-25 10:05:00",
        "2026-11-25 10:05:00.000 UTC",
        "2026-11-25 10:05:00+00:00",
        "2026-11-25 11:05:00+01:00",
    ],
)
def test_instants_as_keys_reports_and_athena_print_them(text):
    assert parse_instant(text) == datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


def test_manifest_and_report_keys_are_named_by_the_window_end():
    assert layout.manifest_key("ticks", T0) == "_manifests/ticks/2026-11-25T10:00:00Z.json"
    assert layout.report_key("ticks", T0) == "_reports/ticks/2026-11-25T10:00:00Z.json"
    prefix = layout.manifest_prefix("ticks")
    assert layout.instant_of(layout.manifest_key("ticks", T0), prefix) == T0
    assert layout.instant_of(prefix + "notes.json", prefix) is None
    assert layout.instant_of(layout.report_key("ticks", T0), prefix) is None


def test_every_prefix_of_the_bucket():
    assert [
        layout.raw_prefix("ticks"),
        layout.dlq_prefix("ticks"),
        layout.dlq_day_prefix("ticks", "2026-11-25"),
        layout.manifest_prefix("ticks"),
        layout.report_prefix("ticks"),
        layout.curated_prefix("bars_1m"),
        layout.bars_partition_prefix("bars_1m", T0 + timedelta(minutes=5)),
        layout.athena_output("lake"),
        layout.crawler_target("lake"),
    ] == [
        "raw/ticks/",
        "dlq/ticks/",
        "dlq/ticks/dt=2026-11-25/",
        "_manifests/ticks/",
        "_reports/ticks/",
        "curated/bars_1m/",
        "curated/bars_1m/dt=2026-11-25/hour=10/ingest_window=1005/",
        "s3://lake/athena-results/",
        "s3://lake/raw/",
    ]


def test_event_partitions_are_utc():
    assert layout.dt_hour(datetime(2026, 11, 25, 23, 30, tzinfo=UTC) + timedelta(hours=1)) == ("2026-11-26", 0)
    assert layout.dt_hour_of_epoch_hour(int(T0.timestamp()) // 3600) == ("2026-11-25", 10)


def test_part_manifest_keys_and_a_partitions_object_prefix():
    assert layout.part_manifest_prefix("ticks", T0) == "_parts/ticks/2026-11-25T10:00:00Z/"
    assert layout.part_manifest_key("ticks", "t", T0, 7) == "_parts/ticks/2026-11-25T10:00:00Z/t+7.json"
    assert not layout.part_manifest_key("ticks", "t", T0, 7).startswith(layout.manifest_prefix("ticks"))
    key = layout.data_key("ticks", "t", 10, 5, 9, dt="2026-11-25", hour=10)
    directory = layout.object_directory(key)
    assert directory == "raw/ticks/dt=2026-11-25/hour=10/"
    assert key.startswith(layout.partition_objects_prefix(directory, "t", 10))
    assert not key.startswith(layout.partition_objects_prefix(directory, "t", 1)), "p1 must not list p10"
    with pytest.raises(ValueError):
        layout.part_manifest_key("ticks", "a+b", T0, 0)
