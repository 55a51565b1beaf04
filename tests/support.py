"""Helpers shared by the tests (importable as `tests.support`; fixtures live in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The Market pipeline page's templates and static files, where the plugin ships them.
UI_ASSETS = ROOT / "plugins" / "market_pipeline_ui"


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> object:
    """Poll `condition` until it returns a truthy value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except Exception as exc:  # the condition may fail until the thing is ready
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}; last error: {last_error!r}")


def load_dag(dag_id: str, file_name: str | None = None):
    """Parse one DAG file now (after the test has set its PIPELINE_* environment) and return the DAG."""
    from airflow.dag_processing.dagbag import DagBag

    path = ROOT / "dags" / (file_name or f"{dag_id}.py")
    bag = DagBag(dag_folder=str(path), safe_mode=False)
    if bag.import_errors:
        raise AssertionError(f"import errors: {bag.import_errors}")
    return bag.dags[dag_id]


def use_pipeline_names(monkeypatch, prefix: str = "e2e", **overrides: str) -> dict[str, str]:
    """Point the pipeline at fresh resource names for one test (env read when DAG files are parsed).

    The Airflow connections are recomputed too, since the Athena connection names the bucket and
    workgroup. Returns the names set.
    """
    import os
    import uuid

    from devstack.config import connections_env, stack_config_for

    suffix = uuid.uuid4().hex[:8]
    names = {
        "PIPELINE_TOPIC": f"{prefix}_{suffix}",
        "PIPELINE_BUCKET": f"{prefix}-{suffix}".replace("_", "-"),
        "PIPELINE_GLUE_DATABASE": f"{prefix}_{suffix}",
        "PIPELINE_CRAWLER": f"{prefix}_crawler_{suffix}",
        "PIPELINE_ATHENA_WORKGROUP": f"{prefix}_{suffix}",
        "PIPELINE_CONSUMER_GROUP": f"{prefix}_ingest_{suffix}",
        **overrides,
    }
    for key, value in names.items():
        monkeypatch.setenv(key, value)
    kafka = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:" + os.environ.get("KAFKA_PORT", "9092"))
    aws = os.environ.get("LOCAL_AWS_ENDPOINT", "http://127.0.0.1:" + os.environ.get("LOCAL_AWS_PORT", "4566"))
    for key, value in connections_env(stack_config_for(kafka, aws)).items():
        monkeypatch.setenv(key, value)
    return names


def market_ui_app(settings, **kwargs):
    """The page's app as the plugin builds it (clients from the Airflow connections), without Airflow's auth."""
    from market_ui.app import create_app
    from pipeline_airflow.ui_clients import HookClients

    return create_app(settings, clients=HookClients(settings), assets_dir=UI_ASSETS, **kwargs)
