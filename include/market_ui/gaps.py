"""The page's gaps panel: spans of broker time no ingest window covers, and what their attempts left.

Why a panel: a window that never completes leaves no manifest while later windows commit past it, so
the consumer lag looks healthy. The lake itself shows it (market_pipeline.coverage): the manifests on
either side of a gap give its time span and the Kafka offsets never landed; the objects a dead attempt
wrote there are named, since Athena counts them; open attempt markers say what is being retried.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from market_pipeline import layout
from market_pipeline.coverage import find_gaps, open_attempts
from market_pipeline.manifest import manifest_keys


def gap_summary(s3: Any, bucket: str, table: str, since: datetime, interval: timedelta) -> dict[str, Any]:
    """Gaps between windows ending after `since` (newest first), open attempts, and totals."""
    gaps = find_gaps(s3, bucket, table, since=since, interval=interval)
    ends = manifest_keys(s3, bucket, table)
    return {
        "since": layout.format_instant(since),
        "interval_minutes": interval / timedelta(minutes=1),
        "gaps": [g.to_dict(interval) for g in reversed(gaps)],
        "intervals_missing": sum(round((g.end - g.start) / interval) for g in gaps),
        "messages_missing": sum(g.messages for g in gaps),
        "unlisted_objects": sum(len(g.unlisted) for g in gaps),
        "newest_window_end": layout.format_instant(ends[-1][0]) if ends else None,
        "open_attempts": open_attempts(s3, bucket, table),
    }
