"""/api/gaps against the local S3 endpoint, with the app built as the plugin builds it (Airflow hooks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from market_pipeline.settings import load_settings
from tests.fakes import lake_window
from tests.support import market_ui_app

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def test_the_gaps_panel_reads_the_lake_through_the_connections(monkeypatch, s3_bucket, boto_client):
    monkeypatch.setenv("PIPELINE_BUCKET", s3_bucket)
    s3 = boto_client("s3")
    lake_window(s3, T0, {0: (0, 10), 1: (0, 5)}, bucket=s3_bucket)
    dead = lake_window(s3, T0 + FIVE, {0: (10, 14), 1: (5, 6)}, manifest=False, bucket=s3_bucket)
    lake_window(s3, T0 + 3 * FIVE, {0: (20, 30), 1: (9, 11)}, bucket=s3_bucket)  # two intervals missing

    app = market_ui_app(load_settings(), clock=lambda: T0 + timedelta(hours=2))
    with TestClient(app) as client:
        body = client.get("/api/gaps", params={"days": "2"}).json()
    assert body["error"] is None, body
    (gap,) = body["gaps"]
    assert (gap["start"], gap["end"], gap["intervals"], gap["messages_missing"]) == (
        "2026-11-27T08:05:00Z",
        "2026-11-27T08:15:00Z",
        2,
        14,
    )
    assert gap["unlisted_keys"] == sorted(dead) and body["unlisted_objects"] == 2
