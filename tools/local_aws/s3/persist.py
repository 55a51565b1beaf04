"""S3 state on disk: a JSON sidecar per object, the bucket list, and the restore at start-up.

Why sidecars: the bodies are already files (``bodies``); the metadata moto keeps beside them
(ETag, version, tags, ...) is written next to each body after every mutating request, so a
restart rebuilds the same buckets and objects without reading a body into memory.

On shutdown deletion is switched off first, then :func:`reconcile` removes anything not
referenced by a bucket, so the disk mirrors the buckets exactly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from moto.s3.models import FakeBucket, FakeKey, S3Backend

from local_aws import persistence
from local_aws.s3.bodies import DiskBuffer, body_path, remove_object_files
from local_aws.s3.models import STORE

log = logging.getLogger(__name__)

STATE_NAME = "s3"  # the persistence hook holding the bucket list
# Orders sidecars across restarts, so versions of a key are restored oldest first.
_seq = itertools.count(int(dt.datetime.now(dt.UTC).timestamp() * 1_000_000))


# ---------------------------------------------------------------------------------------------
# sidecars
# ---------------------------------------------------------------------------------------------


def _key_record(s3: S3Backend, key: FakeKey) -> dict[str, Any]:
    tags = {}
    with contextlib.suppress(Exception):
        tags = s3.tagger.get_tag_dict_for_resource(key.arn)
    return {
        "bucket": key.bucket_name,
        "key": key.name,
        "version_id": key._version_id,
        "is_versioned": key._is_versioned,
        "seq": next(_seq),
        "etag": key.etag.strip('"'),
        "size": key.contentsize,
        "last_modified": key.last_modified.isoformat(),
        "storage_class": key._storage_class,
        "metadata": dict(key.metadata.items()),
        "tags": tags,
        "encryption": key.encryption,
        "kms_key_id": key.kms_key_id,
        "checksum_algorithm": key.checksum_algorithm,
        "checksum_value": key.checksum_value,
        "checksum_type": key.checksum_type,
        "website_redirect_location": key.website_redirect_location,
        "lock_mode": key.lock_mode,
        "lock_legal_status": key.lock_legal_status,
        "lock_until": key.lock_until,
    }


def _write_sidecar(s3: S3Backend, key: FakeKey) -> None:
    buf = key._value_buffer
    if not isinstance(buf, DiskBuffer):
        return
    # Two flushes can hold the same key (it was marked again while the first one wrote): the
    # per-object lock keeps them from sharing the temp file and lets the later record win;
    # it also keeps a sidecar from reappearing after close() deleted the object.
    with buf.sidecar_lock:
        if buf.closed or key.disposed or not _is_live(s3, key):
            return
        record = _key_record(s3, key)
        tmp = buf.sidecar.with_suffix(f".json.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(record, default=str))
        os.replace(tmp, buf.sidecar)


def _is_live(s3: S3Backend, key: FakeKey) -> bool:
    bucket = s3.buckets.get(key.bucket_name or "")
    if bucket is None:
        return False
    return any(k is key for k in bucket.keys.getlist(key.name, []))


def flush() -> None:
    """Write pending sidecars and the bucket list. Called after every mutating request."""
    if STORE.root is None:
        return
    keys, buckets_dirty = STORE.take_pending()
    s3 = STORE.backend()
    for key in keys:
        try:
            _write_sidecar(s3, key)
        except Exception:
            log.exception("writing sidecar for s3://%s/%s failed", key.bucket_name, key.name)
    if buckets_dirty:
        persistence.save(STATE_NAME)


# ---------------------------------------------------------------------------------------------
# buckets (through the generic persistence hooks), then the objects in them
# ---------------------------------------------------------------------------------------------


def dump_buckets() -> dict[str, Any]:
    s3 = STORE.backend()
    return {
        "buckets": [
            {
                "name": b.name,
                "region": b.region_name,
                "versioning": b.versioning_status,
                "created": b.creation_date.isoformat(),
            }
            for b in list(s3.buckets.values())
        ]
    }


def load_buckets(data: dict[str, Any]) -> None:
    s3 = STORE.backend()
    for item in data.get("buckets", []):
        if item["name"] not in s3.buckets:
            bucket = s3.create_bucket(item["name"], item["region"])
            bucket.creation_date = dt.datetime.fromisoformat(item["created"])
            if item.get("versioning"):
                bucket.versioning_status = item["versioning"]
    _restore_objects(s3)


def _restore_objects(s3: S3Backend) -> None:
    """Re-create every object from its sidecar, oldest first (so versions keep their order)."""
    objects_dir = STORE.objects_dir
    if not objects_dir.exists():
        return
    records: list[tuple[dict[str, Any], Path]] = []
    for sidecar in objects_dir.glob("*/*.json"):
        try:
            records.append((json.loads(sidecar.read_text()), sidecar.with_suffix(".bin")))
        except (OSError, ValueError) as exc:
            log.error("skipping unreadable sidecar %s: %s", sidecar, exc)
    records.sort(key=lambda r: r[0]["seq"])
    restored = 0
    for record, body in records:
        bucket: FakeBucket | None = s3.buckets.get(record["bucket"])
        if bucket is None or not body.exists():
            log.warning("dropping orphan object %s (bucket or body missing)", body)
            remove_object_files(body)
            continue
        _adopt_key(s3, bucket, record, body)
        restored += 1
    # bodies without a sidecar belong to keys that never made it into a bucket
    live = {body for _, body in records if body.exists()}
    for body in objects_dir.glob("*/*.bin"):
        if body not in live:
            remove_object_files(body)
    log.info("restored %d S3 objects from %s", restored, objects_dir)


def _adopt_key(s3: S3Backend, bucket: FakeBucket, record: dict[str, Any], body: Path) -> FakeKey:
    """A FakeKey for a restored sidecar, its body pointed at the existing file, put in its bucket."""
    key = FakeKey(
        name=record["key"],
        value=b"",
        account_id=s3.account_id,
        region_name=bucket.region_name,
        storage=record.get("storage_class"),
        etag=record.get("etag"),
        is_versioned=record.get("is_versioned", False),
        version_id=record.get("version_id"),
        bucket_name=bucket.name,
        encryption=record.get("encryption"),
        kms_key_id=record.get("kms_key_id"),
        lock_mode=record.get("lock_mode"),
        lock_legal_status=record.get("lock_legal_status"),
        lock_until=record.get("lock_until"),
        checksum_value=record.get("checksum_value"),
        checksum_type=record.get("checksum_type"),
    )
    key._value_buffer.close()  # the empty body the constructor made
    key._value_buffer = DiskBuffer(body)
    key.contentsize = body.stat().st_size
    if not record.get("etag"):
        key._etag = None  # the b"" placeholder's MD5: hash the real body on first use instead
    key.last_modified = dt.datetime.fromisoformat(record["last_modified"])
    key.checksum_algorithm = record.get("checksum_algorithm")
    key.website_redirect_location = record.get("website_redirect_location")
    key._metadata.clear()
    key.set_metadata(record.get("metadata") or {}, replace=True)
    if record.get("tags"):
        s3.tagger.tag_resource(key.arn, [{"Key": k, "Value": v} for k, v in record["tags"].items()])
    existing = bucket.keys.getlist(key.name, [])
    if bucket.is_versioned and record.get("is_versioned"):
        bucket.keys.setlist(key.name, [*existing, key])
    else:
        bucket.keys.setlist(key.name, [key])  # a newer sidecar of an overwritten key wins
    return key


# ---------------------------------------------------------------------------------------------
# shutdown
# ---------------------------------------------------------------------------------------------


def reconcile() -> None:
    """Make the disk mirror the buckets: rewrite live sidecars, delete unreferenced files."""
    if STORE.root is None:
        return
    s3 = STORE.backend()
    live: set[Path] = set()
    for bucket in list(s3.buckets.values()):
        for _name, versions in list(bucket.keys.iterlists()):
            for key in versions:
                path = body_path(key) if isinstance(key, FakeKey) else None
                if path is not None:
                    live.add(path)
    flush()
    for body in STORE.objects_dir.glob("*/*.bin"):
        if body not in live:
            remove_object_files(body)


def shutdown() -> None:
    """Stop deleting on dispose (interpreter teardown collects every key), then reconcile."""
    DiskBuffer.delete_on_close = False
    reconcile()
