"""Disk-backed S3 object bodies plus per-object metadata sidecars.

Why: moto keeps each body in a SpooledTemporaryFile (RAM up to ~5 MB, then an anonymous temp
file) and forgets everything on exit. Here every ``FakeKey`` body is a plain file, written on PUT,
and each object that lands in a bucket gets a JSON sidecar, so a restart restores the same buckets
and objects without reading bodies into memory.

Layout under ``<state_dir>/s3``::

    buckets.json                  bucket list (name, region, versioning, creation date)
    objects/<ab>/<uuid>.bin       one object body (``ab`` = first two hex digits, keeps dirs small)
    objects/<ab>/<uuid>.json      its sidecar: bucket, key, version, etag, metadata, tags, ...

Bodies are named by a random id rather than ``<bucket>/<key>`` because S3 keys are not paths:
``a`` and ``a/b`` can both exist, keys may end in ``/`` or contain ``..``, and versioned buckets
keep several bodies per key.

ETags: moto computes a key's ETag lazily by seeking its body buffer to 0 and reading it, without
a lock. Our buffer's position is shared by every thread that touches the key, and the after-write
:func:`flush` of *another* request may write this key's sidecar (reading ``key.etag``) while
moto is still building the PUT response (also reading ``key.etag``); one reader then starts where
the other stopped, hashes no bytes and caches ``d41d8cd9...`` (the MD5 of ``b""``) for good. So
:func:`_install_etag` computes the MD5 from the bytes as they are written and, for the rare key
without one, hashes the body through a private file handle under the key's lock.

Lifecycle: a body file lives as long as its ``FakeKey``. When moto drops a key (overwrite,
delete, aborted upload) the key is disposed or garbage-collected and :class:`DiskBuffer` removes
both files. On shutdown deletion is switched off first, then :func:`reconcile` removes anything
not referenced by a bucket, so the disk mirrors the buckets exactly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from moto.s3 import models as s3_models
from moto.s3.models import FakeBucket, FakeKey, S3Backend, s3_backends
from moto.utilities.utils import md5_hash

from local_aws import persistence

log = logging.getLogger(__name__)

_tls = threading.local()
_lock = threading.RLock()
_dirty: set[int] = set()
_dirty_keys: dict[int, FakeKey] = {}
_seq = itertools.count(int(dt.datetime.now(dt.UTC).timestamp() * 1_000_000))
_CHUNK = 16 * 1024 * 1024


class _Store:
    root: Path | None = None
    account_id: str = "123456789012"
    deleting: bool = True  # False during shutdown: interpreter teardown must not delete bodies
    buckets_dirty: bool = False


STORE = _Store()


class DiskBuffer:
    """File-like body of one S3 object, kept in a file; no descriptor stays open between calls.

    The seek/read position is shared by all threads, like any file object's: callers that seek
    and read must hold the key's lock (moto's ``value`` getter does), or use :meth:`chunks`,
    which reads through its own handle.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pos = 0
        self.closed = False
        # orders sidecar writes for this object and its deletion (a per-object lock, not global)
        self.sidecar_lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.touch()

    @property
    def sidecar(self) -> Path:
        return self.path.with_suffix(".json")

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 0:
            self._pos = pos
        elif whence == 1:
            self._pos += pos
        else:
            self._pos = self.path.stat().st_size + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        with self.path.open("rb") as fh:
            fh.seek(self._pos)
            data = fh.read() if size is None or size < 0 else fh.read(size)
        self._pos += len(data)
        return data

    def write(self, data: bytes) -> int:
        with self.path.open("r+b") as fh:
            fh.seek(self._pos)
            written = fh.write(data)
        self._pos += written
        return written

    def truncate(self, size: int | None = None) -> int:
        size = self._pos if size is None else size
        os.truncate(self.path, size)
        return size

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """The whole body, in blocks, through a private handle (leaves the shared position alone)."""
        with self.path.open("rb") as fh:
            while block := fh.read(size):
                yield block

    def flush(self) -> None:
        """Nothing buffered: every write goes straight to the file."""

    def close(self) -> None:
        with self.sidecar_lock:
            if self.closed:
                return
            self.closed = True
            if STORE.deleting:
                for path in (self.path, self.sidecar):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()


class LazyBody:
    """Stands in for ``key.value`` during a ranged GET: ``len()`` is the object size and a slice
    reads only those bytes from the body file, so a 8 MB range of a 5 GB object costs 8 MB."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def __getitem__(self, item: slice) -> bytes:
        start, stop, _ = item.indices(self.size)
        with self.path.open("rb") as fh:
            fh.seek(start)
            return fh.read(max(0, stop - start))

    def read_all(self) -> bytes:
        return self.path.read_bytes()


class _TempfileShim:
    """Stands in for the ``tempfile`` module inside ``moto.s3.models``.

    Only ``FakeKey.__init__`` (flagged through a thread-local) gets a :class:`DiskBuffer`; other
    users, e.g. the deep copies ``ListObjectVersions`` makes, keep moto's temporary files.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(tempfile, name)

    def SpooledTemporaryFile(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(_tls, "disk", False) and STORE.root is not None:
            name = uuid.uuid4().hex
            return DiskBuffer(STORE.root / "objects" / name[:2] / f"{name}.bin")
        return tempfile.SpooledTemporaryFile(*args, **kwargs)


class _NoTracking(list):  # type: ignore[type-arg]
    """moto keeps every model instance alive for its dashboard; for S3 keys that leaks every
    overwritten body forever, so the server does not track them."""

    def append(self, _item: Any) -> None:
        return None


# ---------------------------------------------------------------------------------------------
# in-process access helpers
# ---------------------------------------------------------------------------------------------


def body_path(key: FakeKey) -> Path | None:
    """The file holding ``key``'s body, or None when the body is in moto's temp storage."""
    buf = getattr(key, "_value_buffer", None)
    return buf.path if isinstance(buf, DiskBuffer) else None


def backend(account_id: str | None = None) -> S3Backend:
    """moto's S3 backend for the account (S3 is partition-global: region key ``aws``)."""
    return s3_backends[account_id or STORE.account_id]["aws"]


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


def mark_key(key: FakeKey) -> None:
    """Queue ``key``'s sidecar to be written by the next :func:`flush`."""
    with _lock:
        _dirty_keys[id(key)] = key


def flush() -> None:
    """Write pending sidecars and the bucket list. Called after every mutating request."""
    if STORE.root is None:
        return
    with _lock:
        keys = list(_dirty_keys.values())
        _dirty_keys.clear()
        buckets_dirty, STORE.buckets_dirty = STORE.buckets_dirty, False
    s3 = backend()
    for key in keys:
        try:
            _write_sidecar(s3, key)
        except Exception:
            log.exception("writing sidecar for s3://%s/%s failed", key.bucket_name, key.name)
    if buckets_dirty:
        persistence.save("s3")


# ---------------------------------------------------------------------------------------------
# buckets (through the generic persistence hooks)
# ---------------------------------------------------------------------------------------------


def _dump_buckets() -> dict[str, Any]:
    s3 = backend()
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


def _load_buckets(data: dict[str, Any]) -> None:
    s3 = backend()
    for item in data.get("buckets", []):
        if item["name"] not in s3.buckets:
            bucket = s3.create_bucket(item["name"], item["region"])
            bucket.creation_date = dt.datetime.fromisoformat(item["created"])
            if item.get("versioning"):
                bucket.versioning_status = item["versioning"]
    _restore_objects(s3)


def _restore_objects(s3: S3Backend) -> None:
    """Re-create every object from its sidecar, oldest first (so versions keep their order)."""
    assert STORE.root is not None
    objects_dir = STORE.root / "objects"
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
            _unlink(body)
            continue
        key = _adopt_key(s3, bucket, record, body)
        if key is not None:
            restored += 1
    # bodies without a sidecar belong to keys that never made it into a bucket
    live = {body for _, body in records if body.exists()}
    for body in objects_dir.glob("*/*.bin"):
        if body not in live:
            _unlink(body)
    log.info("restored %d S3 objects from %s", restored, objects_dir)


def _adopt_key(s3: S3Backend, bucket: FakeBucket, record: dict[str, Any], body: Path) -> FakeKey | None:
    _tls.disk = False  # build with a throw-away buffer, then point it at the existing file
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
    key._value_buffer.close()
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


def _unlink(path: Path) -> None:
    for p in (path, path.with_suffix(".json")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def reconcile() -> None:
    """Make the disk mirror the buckets: rewrite live sidecars, delete unreferenced files."""
    if STORE.root is None:
        return
    s3 = backend()
    live: set[Path] = set()
    for bucket in list(s3.buckets.values()):
        for _name, versions in list(bucket.keys.iterlists()):
            for key in versions:
                path = body_path(key) if isinstance(key, FakeKey) else None
                if path is not None:
                    live.add(path)
    flush()
    for body in (STORE.root / "objects").glob("*/*.bin"):
        if body not in live:
            _unlink(body)


def shutdown() -> None:
    """Stop deleting on dispose (interpreter teardown collects every key), then reconcile."""
    STORE.deleting = False
    reconcile()


# ---------------------------------------------------------------------------------------------
# moto patches
# ---------------------------------------------------------------------------------------------


def install(root: Path, account_id: str) -> None:
    """Route FakeKey bodies to disk and hook the backend's mutating calls."""
    STORE.root = root
    STORE.account_id = account_id
    (root / "objects").mkdir(parents=True, exist_ok=True)
    s3_models.tempfile = _TempfileShim()  # type: ignore[assignment]
    FakeKey.instances_tracked = _NoTracking()  # type: ignore[attr-defined]

    original_init = FakeKey.__init__

    def fake_key_init(self: FakeKey, *args: Any, **kwargs: Any) -> None:
        previous = getattr(_tls, "disk", False)
        _tls.disk = True
        try:
            original_init(self, *args, **kwargs)
        finally:
            _tls.disk = previous

    FakeKey.__init__ = fake_key_init  # type: ignore[method-assign]

    original_put = S3Backend.put_object

    def put_object(self: S3Backend, *args: Any, **kwargs: Any) -> FakeKey:
        key = original_put(self, *args, **kwargs)
        mark_key(key)
        return key

    S3Backend.put_object = put_object  # type: ignore[method-assign]

    def touch_key_after(name: str) -> None:
        original = getattr(S3Backend, name)

        def wrapper(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            if isinstance(result, FakeKey):
                mark_key(result)
            elif args and isinstance(args[0], FakeKey):
                mark_key(args[0])
            elif len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
                with contextlib.suppress(Exception):
                    mark_key(self.get_object(args[0], args[1]))
            return result

        setattr(S3Backend, name, wrapper)

    for name in ("put_object_tagging", "put_object_acl", "put_object_legal_hold", "put_object_retention"):
        if hasattr(S3Backend, name):
            touch_key_after(name)

    def mark_buckets_after(name: str) -> None:
        original = getattr(S3Backend, name)

        def wrapper(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            with _lock:  # flush() reads and clears the flag under the same lock
                STORE.buckets_dirty = True
            return result

        setattr(S3Backend, name, wrapper)

    for name in ("create_bucket", "delete_bucket", "put_bucket_versioning"):
        mark_buckets_after(name)

    _install_etag()
    _install_ranged_get()
    persistence.register_state_hook("s3", dump=_dump_buckets, load=_load_buckets)


def _buffer_md5(key: FakeKey) -> str:
    """MD5 of ``key``'s body. Caller holds ``key.lock`` (when the key has one yet)."""
    digest = md5_hash()
    buf = key._value_buffer
    if isinstance(buf, DiskBuffer):
        for block in buf.chunks():
            digest.update(block)
    else:  # moto's own temp file: shared position, guarded by the key's lock like ``value``
        buf.seek(0)
        while block := buf.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _install_etag() -> None:
    """Make ``FakeKey.etag`` always the MD5 of the stored bytes (or the multipart ``<md5>-N``).

    * The ``value`` setter hashes the bytes it is given, so a PUT's ETag exists before the key is
      visible to any other thread and is never computed from the shared buffer position.
      During ``__init__``/``__setstate__`` (no ``lock`` attribute yet) an ETag passed in by
      moto - the ``-N`` ETag of a completed multipart upload, a restored sidecar's ETag, a
      pickled key's ETag - is kept; assigning ``value`` later replaces the ETag, since the
      bytes changed.
    * The ``etag`` getter, for a key that still has none, hashes once under the key's lock.
    """
    value_property = FakeKey.value

    def set_value(self: FakeKey, new_value: bytes) -> None:
        if isinstance(new_value, str):
            new_value = new_value.encode("utf-8")
        value_property.fset(self, new_value)  # type: ignore[attr-defined]
        if self._etag is None or "lock" in self.__dict__:
            self._etag = md5_hash(new_value).hexdigest()

    def etag(self: FakeKey) -> str:
        value = self._etag
        if value is None:
            lock = self.__dict__.get("lock")
            with lock if lock is not None else contextlib.nullcontext():
                if self._etag is None:
                    self._etag = _buffer_md5(self)
                value = self._etag
        return f'"{value}"'

    FakeKey.value = property(value_property.fget, set_value)  # type: ignore[method-assign,assignment]
    FakeKey.etag = property(etag)  # type: ignore[method-assign,assignment]


def _install_ranged_get() -> None:
    """moto builds a ranged GET by reading the whole body and slicing it; on disk-backed keys we
    hand it a :class:`LazyBody` instead so only the requested range is read."""
    from moto.s3.responses import S3Response

    value_property = FakeKey.value

    def lazy_value(self: FakeKey) -> Any:
        buf = self._value_buffer
        if getattr(_tls, "lazy_get", False) and isinstance(buf, DiskBuffer):
            return LazyBody(buf.path, self.contentsize)
        return value_property.fget(self)  # type: ignore[attr-defined]

    FakeKey.value = property(lazy_value, value_property.fset)  # type: ignore[method-assign,assignment]
    original_key_response = S3Response.key_response

    def key_response(self: S3Response, request: Any, full_url: str, headers: Any) -> Any:
        ranged = request.method == "GET" and request.headers.get("range") and "partNumber" not in full_url
        _tls.lazy_get = bool(ranged)
        try:
            status, response_headers, content = original_key_response(self, request, full_url, headers)
        finally:
            _tls.lazy_get = False
        if isinstance(content, LazyBody):  # the range was not applicable: send the whole body
            content = content.read_all()
        return status, response_headers, content

    S3Response.key_response = key_response  # type: ignore[method-assign]
