"""Defaults shared by the pipeline's DAG files, so every DAG has an owner, retries and tags."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

OWNER = "data-platform"
TAGS = ["stock-market"]

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
}
