"""Patches on moto's S3 models: bodies go to the disk store, writes mark what the next flush saves,
and ETags are always the MD5 of the stored bytes.

ETags: moto computes a key's ETag lazily by seeking its body buffer to 0 and reading it, without
a lock. Our buffer's position is shared by every thread that touches the key, and the after-write
flush of *another* request may write this key's sidecar (reading ``key.etag``) while moto is
still building the PUT response (also reading ``key.etag``); one reader then starts where the
other stopped, hashes no bytes and caches ``d41d8cd9...`` (the MD5 of ``b""``) for good. So
:func:`_patch_etag` computes the MD5 from the bytes as they are written and, for the rare key
without one, hashes the body through a private file handle under the key's lock.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from moto.s3 import models as s3_models
from moto.s3.models import FakeKey, S3Backend
from moto.utilities.utils import md5_hash

from local_aws.s3.bodies import DiskBuffer, body_md5
from local_aws.s3.models import STORE

_tls = threading.local()  # .in_key_init: a FakeKey constructor is running on this thread


class _TempfileShim:
    """Stands in for the ``tempfile`` module inside ``moto.s3.models``.

    Only ``FakeKey.__init__`` (flagged through a thread-local) gets a :class:`DiskBuffer`; other
    users, e.g. the deep copies ``ListObjectVersions`` makes, keep moto's temporary files.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(tempfile, name)

    def SpooledTemporaryFile(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(_tls, "in_key_init", False) and STORE.root is not None:
            return DiskBuffer(STORE.new_body_path())
        return tempfile.SpooledTemporaryFile(*args, **kwargs)


class _NoTracking(list):  # type: ignore[type-arg]
    """moto keeps every model instance alive for its dashboard; for S3 keys that leaks every
    overwritten body forever, so the server does not track them."""

    def append(self, _item: Any) -> None:
        return None


def install() -> None:
    """Route FakeKey bodies to disk, mark keys and buckets after the backend's mutating calls."""
    s3_models.tempfile = _TempfileShim()  # type: ignore[assignment]
    FakeKey.instances_tracked = _NoTracking()  # type: ignore[attr-defined]
    _patch_key_init()
    S3Backend.put_object = _after(S3Backend.put_object, _mark_returned_key)  # type: ignore[method-assign]
    for name in ("put_object_tagging", "put_object_acl", "put_object_legal_hold", "put_object_retention"):
        if hasattr(S3Backend, name):
            setattr(S3Backend, name, _after(getattr(S3Backend, name), _mark_touched_key))
    for name in ("create_bucket", "delete_bucket", "put_bucket_versioning"):
        setattr(S3Backend, name, _after(getattr(S3Backend, name), lambda *_: STORE.mark_buckets()))
    _patch_etag()


def _patch_key_init() -> None:
    original_init = FakeKey.__init__

    def fake_key_init(self: FakeKey, *args: Any, **kwargs: Any) -> None:
        previous = getattr(_tls, "in_key_init", False)
        _tls.in_key_init = True
        try:
            original_init(self, *args, **kwargs)
        finally:
            _tls.in_key_init = previous

    FakeKey.__init__ = fake_key_init  # type: ignore[method-assign]


AfterCall = Callable[[S3Backend, Any, tuple[Any, ...]], None]


def _after(method: Callable[..., Any], then: AfterCall) -> Callable[..., Any]:
    """``method`` followed by ``then(backend, result, args)``."""

    def wrapper(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        then(self, result, args)
        return result

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _mark_returned_key(_s3: S3Backend, key: Any, _args: tuple[Any, ...]) -> None:
    STORE.mark_key(key)


def _mark_touched_key(s3: S3Backend, result: Any, args: tuple[Any, ...]) -> None:
    """The key a per-object call changed: returned, passed in, or named by (bucket, key)."""
    if isinstance(result, FakeKey):
        STORE.mark_key(result)
    elif args and isinstance(args[0], FakeKey):
        STORE.mark_key(args[0])
    elif len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        with contextlib.suppress(Exception):
            STORE.mark_key(s3.get_object(args[0], args[1]))


def _patch_etag() -> None:
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
                    self._etag = body_md5(self)
                value = self._etag
        return f'"{value}"'

    FakeKey.value = property(value_property.fget, set_value)  # type: ignore[method-assign,assignment]
    FakeKey.etag = property(etag)  # type: ignore[method-assign,assignment]
