"""The pipeline's Airflow Assets: the raw tick table that ingest updates and the catalog reads."""

from __future__ import annotations

from airflow.sdk import Asset

from market_pipeline import layout
from market_pipeline.settings import PipelineSettings


def raw_ticks_uri(settings: PipelineSettings) -> str:
    """The raw table's Asset URI, as Airflow normalises it (no trailing slash)."""
    return layout.s3_uri(settings.bucket, layout.raw_prefix(settings.table)).rstrip("/")


def raw_ticks(settings: PipelineSettings) -> Asset:
    """The raw table as an Asset; its URI is also its name.

    Airflow identifies an asset by name and URI together: a fixed name with a per-deployment bucket
    would clash (the second one is marked inactive and its tasks fail), so the URI is the name.
    """
    return Asset(raw_ticks_uri(settings))
