"""Attempt markers: how a retry learns that the previous attempt on its window died without a word.

Why: one bug in a native library (a segfault in a JSON reader, an abort in a compressor) kills the
ingest process. Without a record, every retry runs the same code on the same messages and dies the
same way, forever, while later windows commit past it. So an attempt writes a marker before it reads
anything, records a Python-level failure in it, and deletes it once the window's manifest is written:

- no marker: the first attempt, or the previous one completed: decode with the fast path;
- a marker still saying ``running``: the previous attempt was killed (native crash, SIGKILL, OOM)
  without reaching any handler: decode in :data:`DecodeMode.SAFE` (the Python decoder alone: slower,
  the same output bytes) and say so in the log and the marker;
- a marker saying ``failed`` (a Python exception: S3 or the broker down): the fast path again,
  unless that attempt already used the safe mode, which then stays.

Markers live at :func:`market_pipeline.layout.attempt_key`, one per window and scope (``window``, or a
unit such as ``p0`` when partitions are ingested by separate tasks). They are operational records,
not data: nothing in ``raw/``, ``dlq/`` or ``_manifests/`` depends on them, so reruns stay identical.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from market_pipeline import layout, s3io
from market_pipeline.ingest.decode import DecodeMode

log = logging.getLogger(__name__)

RUNNING = "running"
FAILED = "failed"


@dataclass(frozen=True)
class Attempt:
    """One attempt on a window (or a unit of it) and the decode mode it uses."""

    bucket: str
    key: str
    mode: DecodeMode
    number: int
    reason: str  # why this mode, for logs and the result

    def to_dict(self) -> dict[str, Any]:
        return {"decode_mode": str(self.mode), "attempt": self.number, "decode_mode_reason": self.reason}


def begin_attempt(
    s3: Any,
    bucket: str,
    table: str,
    window_end: datetime,
    *,
    scope: str = "window",
    forced_mode: DecodeMode | None = None,
) -> Attempt:
    """Choose the decode mode from the previous attempt's marker, then mark this attempt as running."""
    key = layout.attempt_key(table, window_end, scope)
    previous = s3io.get_json(s3, bucket, key)
    previous = previous if isinstance(previous, dict) else None
    number = int(previous.get("attempt", 0)) + 1 if previous else 1
    if forced_mode is not None:
        mode, reason = forced_mode, "chosen by the caller"
    elif previous is None:
        mode, reason = DecodeMode.FAST, "first attempt"
    elif previous.get("state") == RUNNING:
        mode = DecodeMode.SAFE
        reason = (
            f"attempt {number - 1} died without a manifest and without reporting an error (a native crash, "
            "a kill or out of memory): decoding with the Python decoder alone"
        )
        log.warning("%s: %s", key, reason)
    elif previous.get("mode") == DecodeMode.SAFE:
        mode, reason = DecodeMode.SAFE, "an earlier attempt died: staying with the Python decoder"
    else:
        mode, reason = DecodeMode.FAST, f"attempt {number - 1} failed with an error it reported"
    s3io.put_json(s3, bucket, key, {"state": RUNNING, "mode": str(mode), "attempt": number, "reason": reason})
    return Attempt(bucket, key, mode, number, reason)


def fail_attempt(s3: Any, attempt: Attempt, error: BaseException) -> None:
    """Record a failure this process saw (the next attempt may use the fast path); never raises."""
    document = {
        "state": FAILED,
        "mode": str(attempt.mode),
        "attempt": attempt.number,
        "error": "".join(traceback.format_exception_only(error)).strip()[:2000],
    }
    try:
        s3io.put_json(s3, attempt.bucket, attempt.key, document)
    except Exception as exc:  # the original error matters more; a stale "running" only costs speed
        log.warning("could not record the failed attempt in %s: %s", attempt.key, exc)


def finish_attempt(s3: Any, attempt: Attempt) -> None:
    """The window is complete (its manifest is written): forget the attempt."""
    s3.delete_object(Bucket=attempt.bucket, Key=attempt.key)
