"""The page's gaps panel and /api/gaps, over an in-memory lake with a window that died half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from market_pipeline.ingest.attempts import begin_attempt
from market_pipeline.settings import PipelineSettings
from market_ui.app import create_app
from tests.fakes import FakeS3, lake_window
from tests.support import UI_ASSETS

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


class LakeClients:
    def __init__(self, s3: FakeS3) -> None:
        self._s3 = s3

    def s3(self) -> FakeS3:
        return self._s3

    def athena(self) -> None:  # the app builds its Athena runner at start; this panel never queries
        return None


def client_for(s3: FakeS3) -> TestClient:
    settings = PipelineSettings(bucket="lake", table="ticks", interval_minutes=5)
    return TestClient(create_app(settings, clients=LakeClients(s3), assets_dir=UI_ASSETS, clock=lambda: T0 + 4 * FIVE))


def test_a_dead_window_between_two_complete_ones_is_listed_with_its_offsets_and_objects():
    s3 = FakeS3()
    lake_window(s3, T0, {0: (0, 10), 1: (0, 8)})
    dead = lake_window(s3, T0 + FIVE, {0: (10, 15)}, manifest=False)
    begin_attempt(s3, "lake", "ticks", T0 + 2 * FIVE)  # ... and the process died: the marker stays
    lake_window(s3, T0 + 2 * FIVE, {0: (20, 30), 1: (12, 20)})

    body = client_for(s3).get("/api/gaps").json()
    assert body["error"] is None and body["days"] == 7
    (gap,) = body["gaps"]
    assert (gap["start"], gap["end"], gap["intervals"]) == ("2026-11-25T10:05:00Z", "2026-11-25T10:10:00Z", 1)
    assert gap["messages_missing"] == 14 and gap["missing_offsets"] == {"0": [10, 20], "1": [8, 12]}
    assert gap["unlisted_keys"] == dead and body["unlisted_objects"] == 1
    assert (body["intervals_missing"], body["newest_window_end"]) == (1, "2026-11-25T10:15:00Z")
    (attempt,) = body["open_attempts"]
    assert (attempt["window_end"], attempt["scope"], attempt["state"]) == ("2026-11-25T10:10:00Z", "window", "running")


def test_no_gap_in_a_complete_lake_and_bad_parameters():
    s3 = FakeS3()
    lake_window(s3, T0, {0: (0, 10)})
    lake_window(s3, T0 + FIVE, {0: (10, 12)})
    client = client_for(s3)
    body = client.get("/api/gaps", params={"days": "1"}).json()
    assert body["gaps"] == [] and body["open_attempts"] == [] and body["messages_missing"] == 0
    for bad in ("0", "32", "x"):
        response = client.get("/api/gaps", params={"days": bad})
        assert response.status_code == 422 and "days" in response.json()["error"]


def test_the_page_has_the_gaps_panel_and_the_endpoint_fails_on_its_own():
    class Down(LakeClients):
        def s3(self):
            raise ConnectionError("Could not connect to the endpoint URL")

    client = TestClient(create_app(PipelineSettings(), clients=Down(FakeS3()), assets_dir=UI_ASSETS))
    assert 'id="panel-gaps"' in client.get("/").text and 'id="attempts-table"' in client.get("/").text
    response = client.get("/api/gaps")
    assert response.status_code == 503 and "Could not connect" in response.json()["error"]
