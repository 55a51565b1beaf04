"""The few S3 calls the library makes, over a plain boto3 client (the providers' hooks hand one over).

Why a module: listing needs pagination, reading needs "missing is not an error", and both were written
three times. Here they are once; keys and prefixes come from :mod:`market_pipeline.layout`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

JSON_CONTENT_TYPE = "application/json"


class BucketMissingError(RuntimeError):
    """The lake's bucket does not exist: the pipeline has not been set up (yet)."""


@contextlib.contextmanager
def _bucket_must_exist(bucket: str) -> Iterator[None]:
    """NoSuchBucket becomes a message that says what to do (ingest or catalog running before setup)."""
    try:
        yield
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "NoSuchBucket":
            raise
        raise BucketMissingError(
            f"bucket {bucket!r} does not exist: the pipeline is not set up yet. Run stock_market_setup "
            "(`make up` runs it before it unpauses ingest and catalog), then clear this run."
        ) from exc


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under `prefix`, in S3's order (paginated ListObjectsV2)."""
    return list(list_sizes(s3, bucket, prefix))


def list_sizes(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    """Every key under `prefix` with its size in bytes, in S3's order (paginated ListObjectsV2)."""
    sizes: dict[str, int] = {}
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        with _bucket_must_exist(bucket):
            page = s3.list_objects_v2(**kwargs)
        sizes.update((item["Key"], int(item["Size"])) for item in page.get("Contents", []))
        if not page.get("IsTruncated"):
            return sizes
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def get_bytes(s3: Any, bucket: str, key: str) -> bytes | None:
    """The object's bytes, or None if there is no such key (any other failure raises)."""
    try:
        with _bucket_must_exist(bucket):
            response = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return None
    except Exception as exc:  # some S3 implementations answer 404 without the NoSuchKey code
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return response["Body"].read()


def get_json(s3: Any, bucket: str, key: str) -> Any:
    """The object parsed as JSON, or None if there is no such key. Invalid JSON raises ValueError."""
    body = get_bytes(s3, bucket, key)
    return None if body is None else json.loads(body)


def put_bytes(s3: Any, bucket: str, key: str, body: bytes, content_type: str) -> None:
    """Overwrite `key` with `body` (plain PutObject: idempotent by construction)."""
    with _bucket_must_exist(bucket):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def put_json(
    s3: Any, bucket: str, key: str, document: Any, *, indent: int | None = 2, sort_keys: bool = False
) -> bytes:
    """Write `document` as JSON; returns the bytes written."""
    body = json.dumps(document, indent=indent, sort_keys=sort_keys).encode()
    put_bytes(s3, bucket, key, body, JSON_CONTENT_TYPE)
    return body
