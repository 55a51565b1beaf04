"""Defaults shared by the pipeline's DAG files, so every DAG has an owner, retries and tags.

Retries and their delay can be tuned per deployment (`PIPELINE_TASK_RETRIES`,
`PIPELINE_RETRY_DELAY_SECONDS`); the test suite shortens the delay so retries still run, fast.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

OWNER = "data-platform"
TAGS = ["stock-market"]

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": int(os.environ.get("PIPELINE_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=float(os.environ.get("PIPELINE_RETRY_DELAY_SECONDS", "30"))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
}


def raw_ticks_asset_uri(bucket: str, raw_prefix: str) -> str:
    """The raw table's Asset URI, also its name.

    Airflow identifies an asset by name and URI together: a fixed name with a per-deployment bucket
    would clash (the second one is marked inactive and its tasks fail), so the URI is the name.
    """
    return f"s3://{bucket}/{raw_prefix.rstrip('/')}"  # as Airflow normalises it
