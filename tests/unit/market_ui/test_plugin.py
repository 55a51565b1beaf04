"""The Airflow plugin's wiring: the page is mounted, in the navigation, and behind Airflow's login."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from fastapi.testclient import TestClient

from tests.support import ROOT


def load_plugin_module() -> ModuleType:
    """Import plugins/market_pipeline_plugin.py the way Airflow does: by file path."""
    spec = importlib.util.spec_from_file_location(
        "market_pipeline_plugin", ROOT / "plugins" / "market_pipeline_plugin.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plugin_mounts_the_app_and_adds_a_nav_entry() -> None:
    plugin = load_plugin_module().MarketPipelinePlugin
    assert [(a["url_prefix"], a["name"]) for a in plugin.fastapi_apps] == [("/market-pipeline", "Market pipeline")]
    (view,) = plugin.external_views
    assert view["destination"] == "nav" and view["url_route"] == "market-pipeline"
    assert view["href"] == "/market-pipeline/"


def test_plugin_app_refuses_requests_without_an_airflow_session() -> None:
    app = load_plugin_module().MarketPipelinePlugin.fastapi_apps[0]["app"]
    client = TestClient(app)
    for path in ("/api/lag", "/api/windows", "/api/bars?symbols=AAPL"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"] == "Not authenticated"
    assert client.get("/static/vendor/uplot/uPlot.iife.min.js").status_code == 200  # public assets only
