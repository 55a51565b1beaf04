"""Airflow plugin: the "Market pipeline" page (lag, windows, validation, freshness, price chart).

Why a FastAPI sub-app plus an external view: Airflow 3 mounts plugin FastAPI apps on its api-server
(same origin, same login cookie) and shows an external view with a ``url_route`` inside its own UI, in
the navigation. The page's logic lives in ``include/market_ui``, its Airflow clients in ``include/pipeline_airflow``;
this file is wiring only, and the page's templates and static files ship next to it.

URL: ``<airflow>/plugin/market-pipeline`` (embedded in the UI) or ``<airflow>/market-pipeline/`` (bare).
Every route requires an authenticated Airflow user (the UI's ``_token`` cookie or a bearer token).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)

URL_PREFIX = "/market-pipeline"
ASSETS_DIR = Path(__file__).resolve().parent / "market_pipeline_ui"


def _login_url(next_url: str) -> str:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=next_url)


def create_plugin_app() -> Any:
    """The page's app with Airflow's own authentication dependency in front of every route."""
    from airflow.api_fastapi.core_api.security import requires_authenticated

    from market_pipeline.settings import load_settings
    from market_ui.app import create_app
    from pipeline_airflow.ui_clients import HookClients

    settings = load_settings()
    return create_app(
        settings,
        clients=HookClients(settings),
        assets_dir=ASSETS_DIR,
        auth=requires_authenticated(),
        login_url=_login_url,
    )


def _plugin_apps() -> list[dict[str, Any]]:
    # Only the api-server serves the app; the scheduler and workers load plugins too, and a broken page
    # must never break them, so a failure here is logged and the page is simply absent.
    try:
        return [{"app": create_plugin_app(), "url_prefix": URL_PREFIX, "name": "Market pipeline"}]
    except Exception:
        log.exception("the Market pipeline page could not be built; the plugin's page is disabled")
        return []


class MarketPipelinePlugin(AirflowPlugin):
    """Adds the Market pipeline page to the Airflow UI's navigation."""

    name = "market_pipeline"
    fastapi_apps = _plugin_apps()
    external_views = [
        {
            "name": "Market pipeline",
            "href": f"{URL_PREFIX}/",
            "url_route": "market-pipeline",
            "destination": "nav",
            "nav_top_level": True,
            "icon": f"{URL_PREFIX}/static/icon.svg",
        }
    ]
