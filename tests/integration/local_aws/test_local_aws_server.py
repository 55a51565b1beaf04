"""The endpoint process itself: CLI, health, STS, S3 basics, big objects, restart persistence."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.integration.local_aws.conftest import EndpointProcess, make_world, wait_until
from tests.integration.local_aws.la_helpers import crawl, parquet_bytes, partition_values, ticks


def test_help_lists_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "local_aws", "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for option in ("--port", "--host", "--state-dir", "--sync-wait"):
        assert option in out


def test_health_and_ready_line(local_aws_process: EndpointProcess) -> None:
    with urllib.request.urlopen(f"{local_aws_process.url}/_local_aws/health", timeout=5) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        assert json.loads(resp.read()) == {"status": "ok"}
    assert f"local_aws listening on http://127.0.0.1:{local_aws_process.port}" in local_aws_process.read_log()


def test_sts_get_caller_identity(aws_client: Callable[..., Any]) -> None:
    identity = aws_client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"].startswith("arn:aws:")


def test_s3_missing_bucket_and_key_errors(aws_client: Callable[..., Any], unique_name: str) -> None:
    s3 = aws_client("s3")
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket="missing-bucket-" + unique_name.replace("_", "-")[:30])
    assert err.value.response["Error"]["Code"] == "NoSuchBucket"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    bucket = unique_name.replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="nope")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"


def test_big_object_is_stored_on_disk(
    local_aws_process: EndpointProcess, aws_client: Callable[..., Any], unique_name: str
) -> None:
    s3 = aws_client("s3")
    bucket = unique_name.replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    size = 48 * 1024 * 1024
    body = hashlib.sha256(b"seed").digest() * (size // 32)
    config = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(body), bucket, "big/blob.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big/blob.bin")
    assert head["ContentLength"] == size
    got = s3.get_object(Bucket=bucket, Key="big/blob.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(body).hexdigest()
    ranged = s3.get_object(Bucket=bucket, Key="big/blob.bin", Range="bytes=100-199")["Body"].read()
    assert ranged == body[100:200]
    sidecars = list((local_aws_process.state_dir / "s3" / "objects").glob("*/*.json"))
    records = [json.loads(p.read_text()) for p in sidecars]
    mine = [
        (r, p) for r, p in zip(records, sidecars, strict=True) if r["bucket"] == bucket and r["key"] == "big/blob.bin"
    ]
    assert len(mine) == 1
    assert mine[0][1].with_suffix(".bin").stat().st_size == size


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_concurrent_puts_report_the_md5_of_their_bytes(
    local_aws_process: EndpointProcess, aws_client: Callable[..., Any], unique_name: str
) -> None:
    """Regression: concurrent PutObjects sometimes got, and kept, the ETag of b"" (d41d8cd9...).

    One request's after-write flush wrote another request's sidecar (reading ``key.etag``) while
    moto built that request's response (also reading ``key.etag``); both seek/read the same body
    buffer, so one of them hashed nothing and cached the empty-body MD5.
    """
    s3 = aws_client("s3")  # one client shared by all threads, as boto3 allows
    bucket = unique_name.replace("_", "-")
    s3.create_bucket(Bucket=bucket)
    bodies = {f"obj/{i:04d}.bin": hashlib.sha256(f"{i}".encode()).digest() * 6400 for i in range(200)}  # 200 KB
    part_size = 5 * 1024 * 1024  # S3's minimum for every part but the last
    uploads = {f"multi/{i}.bin": [bytes([i]) * part_size, bytes([i + 100]) * 1024] for i in range(4)}

    def put(key: str) -> tuple[str, str]:
        return key, s3.put_object(Bucket=bucket, Key=key, Body=bodies[key])["ETag"].strip('"')

    def put_multipart(key: str) -> tuple[str, str]:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        parts = [
            {
                "PartNumber": n,
                "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=b)["ETag"],
            }
            for n, b in enumerate(uploads[key], start=1)
        ]
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
        return key, done["ETag"].strip('"')

    with ThreadPoolExecutor(max_workers=4) as pool:
        multipart_futures = [pool.submit(put_multipart, key) for key in uploads]
        put_etags = dict(pool.map(put, bodies))
        put_etags.update(f.result() for f in multipart_futures)

    expected = {key: _md5(body) for key, body in bodies.items()}
    for key, parts in uploads.items():  # multipart ETag: MD5 of the parts' binary MD5s, then "-<parts>"
        expected[key] = f"{_md5(b''.join(hashlib.md5(p, usedforsecurity=False).digest() for p in parts))}-{len(parts)}"
    all_bodies = {**bodies, **{key: b"".join(parts) for key, parts in uploads.items()}}

    assert put_etags == expected
    listed = {
        obj["Key"]: obj["ETag"].strip('"')
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
    }
    assert listed == expected
    for key, body in all_bodies.items():
        assert s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') == expected[key], key
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["ETag"].strip('"') == expected[key], key
        assert got["Body"].read() == body, key

    # the sidecars (what a restart restores) carry the same ETags
    objects_dir = local_aws_process.state_dir / "s3" / "objects"

    def persisted() -> dict[str, str] | None:
        found = {}
        for sidecar in objects_dir.glob("*/*.json"):
            try:
                record = json.loads(sidecar.read_text())
            except (OSError, ValueError):
                return None  # being replaced right now
            if record["bucket"] == bucket:
                found[record["key"]] = record["etag"]
        return found if len(found) == len(expected) else None

    assert wait_until(persisted, timeout=10, what="a sidecar per object") == expected


def _populate(client: Callable[[str], Any]) -> dict[str, Any]:
    world = make_world(client, "persist_db")
    s3 = world.s3
    for hour in ("00", "01"):
        world.put(f"raw/ticks/dt=2026-01-01/hour={hour}/f.parquet", parquet_bytes(ticks(4)))
    s3.put_object(
        Bucket=world.bucket,
        Key="docs/readme.txt",
        Body=b"hello",
        ContentType="text/plain",
        Metadata={"owner": "pipeline"},
        Tagging="team=data",
    )
    s3.put_object(Bucket=world.bucket, Key="docs/overwritten.txt", Body=b"v1")
    s3.put_object(Bucket=world.bucket, Key="docs/overwritten.txt", Body=b"v2")
    s3.put_object(Bucket=world.bucket, Key="docs/deleted.txt", Body=b"gone")
    s3.delete_object(Bucket=world.bucket, Key="docs/deleted.txt")
    s3.put_object(Bucket=world.bucket, Key="a", Body=b"file a")
    s3.put_object(Bucket=world.bucket, Key="a/b", Body=b"file under a")
    name = world.crawler("c_persist", Description="kept")
    crawl(world.glue, name)
    world.glue.tag_resource(ResourceArn="arn:aws:glue:us-east-1:123456789012:crawler/c_persist", TagsToAdd={"k": "v"})
    return {"world": world, "crawler": name}


def _check(client: Callable[[str], Any], bucket: str, database: str) -> None:
    s3, glue = client("s3"), client("glue")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [
        "a",
        "a/b",
        "docs/overwritten.txt",
        "docs/readme.txt",
        "raw/ticks/dt=2026-01-01/hour=00/f.parquet",
        "raw/ticks/dt=2026-01-01/hour=01/f.parquet",
    ]
    readme = s3.get_object(Bucket=bucket, Key="docs/readme.txt")
    assert readme["Body"].read() == b"hello"
    assert readme["ContentType"] == "text/plain"
    assert readme["Metadata"] == {"owner": "pipeline"}
    assert s3.get_object_tagging(Bucket=bucket, Key="docs/readme.txt")["TagSet"] == [{"Key": "team", "Value": "data"}]
    assert s3.get_object(Bucket=bucket, Key="docs/overwritten.txt")["Body"].read() == b"v2"
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"file a"
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"file under a"
    table = glue.get_table(DatabaseName=database, Name="ticks")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["symbol", "price", "size", "event_time"]
    assert table["Parameters"]["recordCount"] == "8"
    assert partition_values(glue, database, "ticks") == [["2026-01-01", "00"], ["2026-01-01", "01"]]
    crawler = glue.get_crawler(Name="c_persist")["Crawler"]
    assert crawler["Description"] == "kept"
    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert glue.get_tags(ResourceArn="arn:aws:glue:us-east-1:123456789012:crawler/c_persist")["Tags"] == {"k": "v"}
    metrics = glue.get_crawler_metrics(CrawlerNameList=["c_persist"])["CrawlerMetricsList"][0]
    assert metrics["TablesCreated"] == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_restart_keeps_objects_tables_partitions(
    fresh_endpoint: EndpointProcess, boto3_session_factory: Callable[[str], Any], sig: signal.Signals
) -> None:
    made = _populate(boto3_session_factory(fresh_endpoint.url))
    world = made["world"]
    assert fresh_endpoint.stop(sig) == 0
    assert "state saved" in fresh_endpoint.read_log()
    fresh_endpoint.start()
    client = boto3_session_factory(fresh_endpoint.url)
    _check(client, world.bucket, world.database)
    # the restored catalog keeps working: a new partition is picked up by the restored crawler
    client("s3").put_object(
        Bucket=world.bucket, Key="raw/ticks/dt=2026-01-02/hour=00/f.parquet", Body=parquet_bytes(ticks(2))
    )
    crawl(client("glue"), "c_persist")
    assert ["2026-01-02", "00"] in partition_values(client("glue"), world.database, "ticks")
    # and a second restart still has everything
    fresh_endpoint.restart()
    assert ["2026-01-02", "00"] in partition_values(
        boto3_session_factory(fresh_endpoint.url)("glue"), world.database, "ticks"
    )


def test_objects_survive_a_crash(fresh_endpoint: EndpointProcess, boto3_session_factory: Callable[[str], Any]) -> None:
    s3 = boto3_session_factory(fresh_endpoint.url)("s3")
    s3.create_bucket(Bucket="crash-bucket")
    s3.put_object(Bucket="crash-bucket", Key="k1", Body=b"one", Metadata={"m": "1"})
    s3.put_object(Bucket="crash-bucket", Key="k1", Body=b"one-v2")
    s3.put_object(Bucket="crash-bucket", Key="k2", Body=b"two")
    s3.delete_object(Bucket="crash-bucket", Key="k2")
    fresh_endpoint.stop(signal.SIGKILL)
    fresh_endpoint.start()
    s3 = boto3_session_factory(fresh_endpoint.url)("s3")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="crash-bucket")["Contents"]] == ["k1"]
    assert s3.get_object(Bucket="crash-bucket", Key="k1")["Body"].read() == b"one-v2"


def test_state_dir_layout(fresh_endpoint: EndpointProcess, boto3_session_factory: Callable[[str], Any]) -> None:
    s3 = boto3_session_factory(fresh_endpoint.url)("s3")
    s3.create_bucket(Bucket="layout-bucket")
    s3.put_object(Bucket="layout-bucket", Key="x/y.txt", Body=b"data")
    fresh_endpoint.stop()
    state: Path = fresh_endpoint.state_dir
    assert json.loads((state / "s3.json").read_text())["buckets"][0]["name"] == "layout-bucket"
    bodies = list((state / "s3" / "objects").glob("*/*.bin"))
    assert [b.read_bytes() for b in bodies] == [b"data"]
    assert json.loads(bodies[0].with_suffix(".json").read_text())["key"] == "x/y.txt"
    assert (state / "glue.json").exists()
