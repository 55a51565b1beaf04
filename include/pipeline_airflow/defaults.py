"""What every pipeline DAG shares: an owner, retries with back-off, tags.

Retries and their first delay are settings (`PIPELINE_TASK_RETRIES`, `PIPELINE_RETRY_DELAY_SECONDS`,
declared in market_pipeline.settings), so a deployment tunes them without editing a DAG.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from market_pipeline.settings import PipelineSettings

OWNER = "data-platform"
TAGS = ["stock-market"]
# The pool of the catalog's Athena queries (real Athena caps concurrent queries per account). It must
# exist: `make up` creates it; a deployment creates it once (README: Running against real AWS).
ATHENA_POOL = "athena"


def default_args(settings: PipelineSettings) -> dict[str, Any]:
    return {
        "owner": OWNER,
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
    }
