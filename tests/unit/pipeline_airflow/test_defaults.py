"""Every DAG's default args come from settings (owner, retries, back-off); the raw-ticks Asset from the layout."""

from __future__ import annotations

from datetime import timedelta

from market_pipeline.settings import PipelineSettings
from pipeline_airflow import assets, defaults


def test_default_args_follow_the_settings(monkeypatch):
    monkeypatch.setenv("PIPELINE_TASK_RETRIES", "4")
    monkeypatch.setenv("PIPELINE_RETRY_DELAY_SECONDS", "2.5")
    args = defaults.default_args(PipelineSettings())
    assert args["owner"] == defaults.OWNER != "airflow"
    assert (args["retries"], args["retry_delay"]) == (4, timedelta(seconds=2.5))
    assert args["retry_exponential_backoff"] is True


def test_the_raw_ticks_asset_is_named_by_its_uri():
    asset = assets.raw_ticks(PipelineSettings(bucket="lake", table="ticks"))
    assert asset.uri == asset.name == "s3://lake/raw/ticks"
