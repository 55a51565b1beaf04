"""Object bodies kept in files: what moto's ``FakeKey`` reads and writes instead of a temp file.

Why: moto keeps each body in a SpooledTemporaryFile (RAM up to ~5 MB, then an anonymous temp
file) and forgets it on exit. Here every body is a plain file under the store, written on PUT and
read in place (by ranged GETs, the crawler's footer reads and Athena), so a restart loses nothing
and a large object never sits in memory.

Lifecycle: a body file lives as long as its ``FakeKey``. When moto drops a key (overwrite,
delete, aborted upload) the key is disposed or garbage-collected and :class:`DiskBuffer` removes
its files, unless :attr:`DiskBuffer.delete_on_close` was switched off for shutdown.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from moto.s3.models import FakeKey
from moto.utilities.utils import md5_hash

CHUNK = 16 * 1024 * 1024


class DiskBuffer:
    """File-like body of one S3 object, kept in a file; no descriptor stays open between calls.

    The seek/read position is shared by all threads, like any file object's: callers that seek
    and read must hold the key's lock (moto's ``value`` getter does), or use :meth:`chunks`,
    which reads through its own handle.
    """

    # False during shutdown: interpreter teardown disposes every key and must not delete bodies.
    delete_on_close = True

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

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
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
            if DiskBuffer.delete_on_close:
                remove_object_files(self.path)


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


def body_path(key: FakeKey) -> Path | None:
    """The file holding ``key``'s body, or None when the body is in moto's temp storage."""
    buf = getattr(key, "_value_buffer", None)
    return buf.path if isinstance(buf, DiskBuffer) else None


def remove_object_files(body: Path) -> None:
    """Delete an object's body and its sidecar (either may already be gone)."""
    for path in (body, body.with_suffix(".json")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def body_md5(key: FakeKey) -> str:
    """MD5 of ``key``'s body. Caller holds ``key.lock`` (when the key has one yet)."""
    digest = md5_hash()
    buf = key._value_buffer
    if isinstance(buf, DiskBuffer):
        for block in buf.chunks():
            digest.update(block)
    else:  # moto's own temp file: shared position, guarded by the key's lock like ``value``
        buf.seek(0)
        while block := buf.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()
