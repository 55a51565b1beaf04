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


def test_the_start_date_is_required_where_it_is_used_and_parsed_as_utc(monkeypatch):
    from datetime import UTC, datetime

    monkeypatch.delenv("PIPELINE_START_DATE", raising=False)
    settings = PipelineSettings()  # the simulator and setup need no start date
    with pytest.raises(ValueError, match=r"PIPELINE_START_DATE is not set.*make up"):
        _ = settings.start_date
    monkeypatch.setenv("PIPELINE_START_DATE", "2026-11-25T10:00:00Z")
    assert PipelineSettings().start_date == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    monkeypatch.setenv("PIPELINE_START_DATE", "2026-11-25T11:00:00+01:00")
    assert PipelineSettings().start_date == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    monkeypatch.setenv("PIPELINE_START_DATE", "2026-11-25 10:00")
    assert PipelineSettings().start_date == datetime(2026, 11, 25, 10, 0, tzinfo=UTC), "naive means UTC"
    monkeypatch.setenv("PIPELINE_START_DATE", "yesterday")
    with pytest.raises(ValueError, match="PIPELINE_START_DATE must be an ISO-8601 instant"):
        PipelineSettings()


def test_the_simulators_defaults_are_settings(monkeypatch):
    for name in (
        "PIPELINE_SIMULATOR_RATE",
        "PIPELINE_SIMULATOR_DURATION_SECONDS",
        "PIPELINE_PRODUCER_OUTAGE_LIMIT_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    s = PipelineSettings()
    assert (s.simulator_rate, s.simulator_duration_seconds, s.producer_outage_limit_seconds) == (200.0, 300, 300)
    monkeypatch.setenv("PIPELINE_PRODUCER_OUTAGE_LIMIT_SECONDS", "5")
    with pytest.raises(ValueError, match="PIPELINE_PRODUCER_OUTAGE_LIMIT_SECONDS"):
        PipelineSettings()
