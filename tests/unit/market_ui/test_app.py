"""The page's FastAPI app with fake clients: rendering, validation, errors per panel, authentication."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import HTTPException, Request
from fastapi.testclient import TestClient

from market_pipeline.settings import PipelineSettings
from market_ui.app import create_app
from tests.support import UI_ASSETS


class DeadClients:
    """Every service is down, each in its own way."""

    def kafka_admin(self) -> Any:
        raise RuntimeError("Kafka broker not reachable: Local: Broker transport failure")

    def s3(self) -> Any:
        raise ConnectionError("Could not connect to the endpoint URL: http://127.0.0.1:1/")

    def athena(self) -> Any:
        raise ConnectionError("Could not connect to the endpoint URL: http://127.0.0.1:1/")


def test_page_renders_with_every_panel_even_when_services_are_down() -> None:
    settings = PipelineSettings(topic="<script>alert(1)</script>", bucket="lake")
    client = TestClient(create_app(settings, clients=DeadClients(), assets_dir=UI_ASSETS))
    page = client.get("/")
    assert page.status_code == 200
    for panel in ("panel-freshness", "panel-lag", "panel-chart", "panel-windows", "panel-reports"):
        assert f'id="{panel}"' in page.text
    assert "<code>s3://lake/_manifests/ticks/</code>" in page.text  # where the windows and reports come from
    assert "<code>s3://lake/_reports/ticks/</code>" in page.text
    assert "<script>alert(1)</script>" not in page.text  # names are escaped
    assert "&lt;script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/market.js").status_code == 200
    assert client.get("/static/vendor/uplot/uPlot.iife.min.js").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/lag", "/api/windows", "/api/reports", "/api/freshness", "/api/symbols", "/api/bars?symbols=AAPL"]
)
def test_each_endpoint_answers_503_json_when_its_service_is_down(path: str) -> None:
    client = TestClient(create_app(PipelineSettings(), clients=DeadClients(), assets_dir=UI_ASSETS))
    response = client.get(path)
    assert response.status_code == 503
    body = response.json()
    assert body["error"]
    assert "Traceback" not in body["error"]


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("symbols=aapl", "not a valid symbol"),
        ("symbols=AAPL&minutes=0", "between 1 and 1440"),
        ("minutes=5", "at least one"),
    ],
)
def test_bad_parameters_are_422_with_a_message(query: str, needle: str) -> None:
    client = TestClient(create_app(PipelineSettings(), clients=DeadClients(), assets_dir=UI_ASSETS))
    response = client.get(f"/api/bars?{query}")
    assert response.status_code == 422
    assert needle in response.json()["error"]
    assert client.get("/api/windows?limit=abc").status_code == 422


def test_auth_dependency_guards_the_api_and_sends_browsers_to_the_login() -> None:
    def deny(request: Request) -> None:
        if request.headers.get("Authorization") != "Bearer ok":
            raise HTTPException(status_code=401, detail="Not authenticated")

    app = create_app(
        PipelineSettings(),
        clients=DeadClients(),
        assets_dir=UI_ASSETS,
        auth=deny,
        login_url=lambda nxt: f"/auth/login?next={nxt}",
    )
    client = TestClient(app, follow_redirects=False)
    api = client.get("/api/lag")
    assert api.status_code == 401 and api.json()["error"] == "Not authenticated"
    page = client.get("/")
    assert page.status_code == 302 and page.headers["location"].startswith("/auth/login?next=")
    assert client.get("/", headers={"Authorization": "Bearer ok"}).status_code == 200
    assert client.get("/api/lag", headers={"Authorization": "Bearer ok"}).status_code == 503
