"""Manifest JSON round trip, key format, and the readers the catalog DAG and the UI use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from market_pipeline.layout import manifest_key
from market_pipeline.manifest import (
    Manifest,
    ObjectEntry,
    PartitionSummary,
    latest_manifests,
    list_manifests,
    read_manifest,
    write_manifest,
)
from tests.fakes import FakeS3

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def manifest_for(start: datetime, minutes: int = 5, rows: int = 10) -> Manifest:
    end = start + timedelta(minutes=minutes)
    return Manifest(
        table="ticks",
        topic="stock_market_data",
        window_start=start,
        window_end=end,
        schema_version=1,
        partitions=(PartitionSummary(0, 100, 100 + rows + 1, rows + 1, rows, 1), PartitionSummary(1, 5, 5, 0, 0, 0)),
        objects=(
            ObjectEntry(
                "raw/ticks/dt=2026-11-25/hour=10/t+0+0000000100+0000000109.parquet",
                "data",
                0,
                100,
                109,
                rows,
                999,
                "2026-11-25",
                10,
            ),
            ObjectEntry(
                "dlq/ticks/dt=2026-11-25/t+0+0000000110+0000000110.parquet", "dlq", 0, 110, 110, 1, 500, "2026-11-25"
            ),
        ),
        max_bad_share=0.01,
    )


def rows_by_partition(manifest: Manifest) -> dict[tuple[str, int], int]:
    """Rows per Hive partition (dt, hour): what Athena should count for this window."""
    counts: dict[tuple[str, int], int] = {}
    for obj in manifest.data_objects:
        assert obj.hour is not None
        counts[(obj.dt, obj.hour)] = counts.get((obj.dt, obj.hour), 0) + obj.rows
    return counts


def test_manifest_key_is_the_window_end():
    assert manifest_for(T0).key == "_manifests/ticks/2026-11-25T10:05:00Z.json"


def test_json_round_trip_and_counts():
    manifest = manifest_for(T0)
    back = Manifest.from_json(manifest.to_json())
    assert back == manifest
    assert back.messages_in == 11 and back.rows_out == 10 and back.dlq_count == 1
    assert rows_by_partition(back) == {("2026-11-25", 10): 10}
    assert manifest.to_json() == back.to_json()  # canonical bytes


def test_write_read_list_and_latest():
    s3 = FakeS3(page_size=2)  # tiny pages exercise pagination
    for i in range(6):
        write_manifest(s3, "b", manifest_for(T0 + timedelta(minutes=5 * i), rows=i))
    assert read_manifest(s3, "b", manifest_key("ticks", T0 + timedelta(minutes=5))) == manifest_for(T0, rows=0)
    assert read_manifest(s3, "b", "_manifests/ticks/nope.json") is None
    s3.objects["_manifests/ticks/stray.json"] = b"{}"  # not a window's manifest: listed, never read
    assert len(list_manifests(s3, "b", "ticks")) == 6
    hour = list_manifests(s3, "b", "ticks", T0 + timedelta(minutes=5), T0 + timedelta(minutes=20))
    assert [m.window_start for m in hour] == [T0 + timedelta(minutes=5 * i) for i in (1, 2, 3)]
    assert len(list_manifests(s3, "b", "ticks")) == 6
    latest = latest_manifests(s3, "b", "ticks", limit=2)
    assert [m.window_end for m in latest] == [T0 + timedelta(minutes=30), T0 + timedelta(minutes=25)]


def test_part_manifest_round_trip_key_and_canonical_bytes():
    from market_pipeline.manifest import PartManifest, read_part_manifest, write_part_manifest

    part = PartManifest(
        table="ticks",
        topic="stock_market_data",
        window_start=T0,
        window_end=T0 + timedelta(minutes=5),
        schema_version=1,
        partition=PartitionSummary(1, 100, 200, 100, 99, 1),
        objects=(
            ObjectEntry("raw/ticks/dt=2026-11-25/hour=10/k.parquet", "data", 1, 100, 199, 99, 4096, "2026-11-25", 10),
        ),
    )
    assert part.key == "_parts/ticks/2026-11-25T10:05:00Z/stock_market_data+1.json"
    s3 = FakeS3(page_size=2)  # tiny pages exercise pagination
    write_part_manifest(s3, "b", part)
    assert read_part_manifest(s3, "b", part.key) == part
    assert s3.objects[part.key] == part.to_json() == PartManifest.from_json(part.to_json()).to_json()
    assert read_part_manifest(s3, "b", part.key.replace("+1", "+2")) is None
