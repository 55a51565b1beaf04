"""An in-memory stand-in for the few S3 client calls the library makes (unit tests run without services)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any


class FakeS3:
    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self, page_size: int | None = None) -> None:
        self.objects: dict[str, bytes] = {}
        self.page_size = page_size  # ListObjectsV2 pages this small exercise the callers' pagination

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: object) -> dict:
        self.objects[Key] = bytes(Body)
        return {}

    def get_object(self, Bucket: str, Key: str) -> dict:
        if Key not in self.objects:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.objects[Key])}

    def delete_object(self, Bucket: str, Key: str) -> dict:
        self.objects.pop(Key, None)
        return {}

    def list_objects_v2(self, Bucket: str, Prefix: str = "", ContinuationToken: str | None = None, **_: object) -> dict:
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        start = int(ContinuationToken or 0)
        end = len(keys) if self.page_size is None else start + self.page_size
        result: dict[str, Any] = {
            "Contents": [{"Key": k, "Size": len(self.objects[k])} for k in keys[start:end]],
            "IsTruncated": end < len(keys),
        }
        if end < len(keys):
            result["NextContinuationToken"] = str(end)
        return result


def lake_window(
    s3: Any,
    start: datetime,
    offsets: dict[int, tuple[int, int]],
    *,
    manifest: bool = True,
    table: str = "ticks",
    bucket: str = "lake",
) -> list[str]:
    """A 5-minute window from `start` owning `offsets` ([first, end) per partition) of topic "topic": one
    data object per partition in the hour of `start`, and its manifest unless the window "died"."""
    from market_pipeline import layout
    from market_pipeline.manifest import Manifest, ObjectEntry, PartitionSummary, write_manifest

    dt = start.strftime("%Y-%m-%d")
    keys = []
    for p, (first, end) in offsets.items():
        key = layout.data_key(table, "topic", p, first, end - 1, dt=dt, hour=start.hour)
        s3.put_object(Bucket=bucket, Key=key, Body=b"parquet")
        keys.append(key)
    if manifest:
        objects = tuple(
            ObjectEntry(k, "data", p, first, end - 1, end - first, 7, dt, start.hour)
            for k, (p, (first, end)) in zip(keys, offsets.items(), strict=True)
        )
        partitions = tuple(PartitionSummary(p, f, e, e - f, e - f, 0) for p, (f, e) in offsets.items())
        end_time = start + timedelta(minutes=5)
        write_manifest(s3, bucket, Manifest(table, "topic", start, end_time, 1, partitions, objects))
    return keys
