"""The library's S3 calls against the local endpoint: a missing bucket says the pipeline is not set up."""

from __future__ import annotations

import uuid

import pytest

from market_pipeline import s3io

pytestmark = pytest.mark.integration


def test_a_missing_bucket_means_not_set_up_yet(boto_client) -> None:
    s3 = boto_client("s3")
    bucket = f"never-created-{uuid.uuid4().hex[:8]}"
    for call in (
        lambda: s3io.put_bytes(s3, bucket, "raw/x.parquet", b"x", "application/octet-stream"),
        lambda: s3io.list_keys(s3, bucket, "raw/"),
        lambda: s3io.get_bytes(s3, bucket, "_manifests/ticks/x.json"),
    ):
        with pytest.raises(s3io.BucketMissingError, match=r"not set up yet\. Run stock_market_setup"):
            call()


def test_a_missing_key_is_still_none(boto_client, s3_bucket) -> None:
    assert s3io.get_bytes(boto_client("s3"), s3_bucket, "nothing/here.json") is None
