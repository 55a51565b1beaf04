"""Settings: every PIPELINE_* name with its default, checked when read."""

from __future__ import annotations

import pytest

from market_pipeline.settings import PipelineSettings


def test_interval_minutes_must_divide_an_hour(monkeypatch):
    monkeypatch.setenv("PIPELINE_INTERVAL_MINUTES", "7")
    with pytest.raises(ValueError, match="PIPELINE_INTERVAL_MINUTES"):
        PipelineSettings()
    monkeypatch.setenv("PIPELINE_INTERVAL_MINUTES", "1")
    assert PipelineSettings().interval_cron == "*/1 * * * *"


def test_retries_are_settings(monkeypatch):
    monkeypatch.delenv("PIPELINE_TASK_RETRIES", raising=False)
    monkeypatch.delenv("PIPELINE_RETRY_DELAY_SECONDS", raising=False)
    assert (PipelineSettings().task_retries, PipelineSettings().retry_delay_seconds) == (2, 30.0)
    monkeypatch.setenv("PIPELINE_TASK_RETRIES", "5")
    monkeypatch.setenv("PIPELINE_RETRY_DELAY_SECONDS", "0.5")
    assert (PipelineSettings().task_retries, PipelineSettings().retry_delay_seconds) == (5, 0.5)
    monkeypatch.setenv("PIPELINE_TASK_RETRIES", "many")
    with pytest.raises(ValueError, match="PIPELINE_TASK_RETRIES must be an integer"):
        PipelineSettings()


def test_ingest_scale_out_settings(monkeypatch):
    monkeypatch.delenv("PIPELINE_MAX_INGEST_TASKS", raising=False)
    monkeypatch.delenv("PIPELINE_INGEST_POOL", raising=False)
    assert (PipelineSettings().max_ingest_tasks, PipelineSettings().ingest_pool) == (16, "default_pool")
    monkeypatch.setenv("PIPELINE_MAX_INGEST_TASKS", "0")
    with pytest.raises(ValueError, match="PIPELINE_MAX_INGEST_TASKS"):
        PipelineSettings()
