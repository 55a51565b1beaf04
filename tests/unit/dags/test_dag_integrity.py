"""Every DAG file imports cleanly, documents itself, and does no heavy work at import."""

from __future__ import annotations

import socket
import warnings
from pathlib import Path

import pytest

from tests.support import ROOT

EXPECTED_DAGS = {"stock_market_setup", "stock_market_simulator", "stock_market_ingest", "stock_market_catalog"}
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))


class _NoNetwork(socket.socket):
    def connect(self, address):  # type: ignore[override]
        raise AssertionError(f"a DAG file opened a network connection at import time: {address}")

    def connect_ex(self, address):  # type: ignore[override]
        raise AssertionError(f"a DAG file opened a network connection at import time: {address}")


@pytest.fixture(scope="module")
def parsed():
    """Parse the DAG folder with networking disabled, recording every warning."""
    from airflow.dag_processing.dagbag import DagBag

    original = socket.socket
    socket.socket = _NoNetwork  # type: ignore[misc]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bag = DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False)
    finally:
        socket.socket = original  # type: ignore[misc]
    return bag, caught


def test_dag_folder_has_the_pipeline_dags(parsed):
    bag, _ = parsed
    assert not bag.import_errors, bag.import_errors
    assert set(bag.dag_ids) == EXPECTED_DAGS


def test_no_deprecation_warnings_from_our_code(parsed):
    from airflow.exceptions import AirflowProviderDeprecationWarning

    _, caught = parsed
    ours = [
        w
        for w in caught
        if issubclass(w.category, DeprecationWarning | PendingDeprecationWarning | AirflowProviderDeprecationWarning)
        and (str(ROOT / "dags") in w.filename or str(ROOT / "include") in w.filename)
    ]
    provider = [w for w in caught if issubclass(w.category, AirflowProviderDeprecationWarning)]
    assert not ours, [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]
    assert not provider, [f"{w.filename}:{w.lineno}: {w.message}" for w in provider]


# A simulator run is one stretch of the feed: a retry would restart its duration and hide its losses.
NO_RETRIES = {("stock_market_simulator", "simulate")}


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_is_documented_and_owned(parsed, dag_id):
    bag, _ = parsed
    dag = bag.dags[dag_id]
    assert dag.doc_md and len(dag.doc_md.strip()) > 200, f"{dag_id} needs a doc_md that explains it"
    for heading in ("Schedule", "Params"):
        assert heading.lower() in dag.doc_md.lower(), f"{dag_id} doc_md should explain its {heading}"
    assert dag.tags and "stock-market" in dag.tags
    for task in dag.tasks:
        assert task.owner not in ("", "airflow"), f"{dag_id}.{task.task_id} has no owner"
        if (dag_id, task.task_id) in NO_RETRIES:
            assert task.retries == 0 and "no retries" in dag.doc_md.lower(), f"{dag_id} must say why"
            continue
        assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_params_are_described(parsed, dag_id):
    bag, _ = parsed
    for name, param in bag.dags[dag_id].params.items():
        assert param.description, f"{dag_id} Param {name!r} has no description for the trigger form"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_stay_thin(path: Path):
    """Wiring only: logic lives in include/ packages, unit-tested without Airflow."""
    source = path.read_text()
    assert "sys.path" not in source
    code_lines = [line for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(code_lines) < 260, f"{path.name} has {len(code_lines)} lines: move logic into include/"
