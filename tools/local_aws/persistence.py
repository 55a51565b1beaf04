"""Generic save/restore of in-process service state as JSON files under ``state_dir``.

Why: moto keeps everything in memory; the endpoint must lose nothing on restart. Each service
extension registers a *state hook*: a ``dump`` returning a JSON-serialisable dict and a ``load``
taking that dict back. The server calls :func:`load_all` at start-up (after every ``install``),
and :func:`save_all` on shutdown; extensions call :func:`mark_dirty` (or :func:`save`) after a
change so state is also written while running.

Every service's ``install`` registers the ``dump``/``load`` of its ``persist`` module here, under
the service's name, and marks it dirty from an after-write hook (``local_aws.hooks``).

Files are written atomically (temp file + rename) as ``<state_dir>/<name>.json``.
S3 object bodies are NOT stored through this module (see ``local_aws.s3``), only metadata-sized state.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class _Hook:
    name: str
    dump: Callable[[], dict[str, Any]]
    load: Callable[[dict[str, Any]], None]


_hooks: dict[str, _Hook] = {}
_lock = threading.RLock()
_state_dir: Path | None = None
_dirty: set[str] = set()
_dirty_event = threading.Event()
_flusher: threading.Thread | None = None
_stop = threading.Event()


def register_state_hook(
    name: str,
    dump: Callable[[], dict[str, Any]],
    load: Callable[[dict[str, Any]], None],
) -> None:
    """Register a named piece of state. ``dump`` must be thread-safe enough to be called at any time."""
    with _lock:
        _hooks[name] = _Hook(name, dump, load)


def configure(state_dir: Path | None) -> None:
    """Set where state lives (None disables persistence; hooks are then never called)."""
    global _state_dir
    _state_dir = Path(state_dir) if state_dir is not None else None
    if _state_dir is not None:
        _state_dir.mkdir(parents=True, exist_ok=True)


def _path(name: str) -> Path:
    assert _state_dir is not None
    return _state_dir / f"{name}.json"


def load_all() -> None:
    """Restore every registered hook from its file, if present."""
    if _state_dir is None:
        return
    for hook in list(_hooks.values()):
        path = _path(hook.name)
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.error("cannot read state file %s: %s", path, exc)
            continue
        hook.load(data)
        log.info("restored %s state from %s", hook.name, path)


def save(name: str) -> None:
    """Write one hook's state now (atomic replace)."""
    if _state_dir is None:
        return
    with _lock:
        hook = _hooks.get(name)
        if hook is None:
            return
        data = hook.dump()
        path = _path(name)
        tmp = path.with_suffix(f".json.tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, default=str, indent=1, sort_keys=True))
        os.replace(tmp, path)
        _dirty.discard(name)


def save_all() -> None:
    """Write every registered hook's state (used on shutdown)."""
    for name in list(_hooks):
        try:
            save(name)
        except Exception:  # one broken hook must not lose the others' state
            log.exception("saving %s state failed", name)


def mark_dirty(name: str) -> None:
    """Ask for ``name`` to be saved soon by the background flusher (cheap; coalesces bursts)."""
    if _state_dir is None:
        return
    with _lock:
        _dirty.add(name)
    _dirty_event.set()


def _flush_loop(interval: float) -> None:
    while not _stop.is_set():
        _dirty_event.wait(timeout=interval)
        _dirty_event.clear()
        if _stop.is_set():
            break
        # coalesce a burst of changes into one write
        _stop.wait(0.05)
        with _lock:
            names = list(_dirty)
        for name in names:
            try:
                save(name)
            except Exception:
                log.exception("saving %s state failed", name)


def start_flusher(interval: float = 1.0) -> None:
    """Start the background thread that saves dirty state (no-op without a state dir)."""
    global _flusher
    if _state_dir is None or _flusher is not None:
        return
    _stop.clear()
    _flusher = threading.Thread(target=_flush_loop, args=(interval,), name="local-aws-state", daemon=True)
    _flusher.start()


def stop_flusher() -> None:
    """Stop the flusher thread and save everything once more."""
    global _flusher
    _stop.set()
    _dirty_event.set()
    if _flusher is not None:
        _flusher.join(timeout=5)
        _flusher = None
    save_all()
