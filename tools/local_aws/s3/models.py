"""The S3 disk store's state, and moto's S3 backend as the other services reach it.

moto's ``S3Backend`` keeps the buckets and keys; this extension adds where their bodies and
metadata sidecars live on disk and which of them changed since the last flush. Layout under
``<state_dir>/s3``::

    buckets.json                  bucket list (name, region, versioning, creation date)
    objects/<ab>/<uuid>.bin       one object body (``ab`` = first two hex digits, keeps dirs small)
    objects/<ab>/<uuid>.json      its sidecar: bucket, key, version, etag, metadata, tags, ...

Bodies are named by a random id rather than ``<bucket>/<key>`` because S3 keys are not paths:
``a`` and ``a/b`` can both exist, keys may end in ``/`` or contain ``..``, and versioned buckets
keep several bodies per key.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from moto.s3.models import FakeKey, S3Backend, s3_backends


def s3_backend(account_id: str) -> S3Backend:
    """moto's S3 backend for the account (S3 is partition-global: region key ``aws``)."""
    return s3_backends[account_id]["aws"]


@dataclass
class DiskStore:
    """Where bodies live and what the next flush must write. ``root`` is None until installed."""

    root: Path | None = None
    account_id: str = "123456789012"
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _dirty_keys: dict[int, FakeKey] = field(default_factory=dict)
    _buckets_dirty: bool = False

    @property
    def objects_dir(self) -> Path:
        assert self.root is not None
        return self.root / "objects"

    def configure(self, root: Path, account_id: str) -> None:
        self.root = root
        self.account_id = account_id
        self.objects_dir.mkdir(parents=True, exist_ok=True)

    def new_body_path(self) -> Path:
        name = uuid.uuid4().hex
        return self.objects_dir / name[:2] / f"{name}.bin"

    def backend(self) -> S3Backend:
        return s3_backend(self.account_id)

    def mark_key(self, key: FakeKey) -> None:
        """Queue ``key``'s sidecar to be written by the next flush."""
        with self._lock:
            self._dirty_keys[id(key)] = key

    def mark_buckets(self) -> None:
        """The bucket list changed: the next flush saves it."""
        with self._lock:
            self._buckets_dirty = True

    def take_pending(self) -> tuple[list[FakeKey], bool]:
        """The keys marked since the last call, and whether the bucket list changed; resets both."""
        with self._lock:
            keys = list(self._dirty_keys.values())
            self._dirty_keys.clear()
            buckets_dirty, self._buckets_dirty = self._buckets_dirty, False
        return keys, buckets_dirty


STORE = DiskStore()
