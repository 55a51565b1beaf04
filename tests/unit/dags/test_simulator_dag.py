"""The simulator DAG: light import, Params reject bad values naming the field, and its wiring."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from tests.support import ROOT

DAG_FILE = ROOT / "dags" / "stock_market_simulator.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    # Not the shared `dagbag` fixture: DagBag in Airflow 3.3 has no include_examples argument.
    bag = DagBag(dag_folder=str(DAG_FILE))
    assert not bag.import_errors, bag.import_errors
    return bag.dags["stock_market_simulator"]  # get_dag() would query the metadata DB


def test_dag_imports_light_and_without_deprecation_warnings() -> None:
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(DAG_FILE)!r})\n"
        "heavy = [m for m in ('numpy', 'pyarrow', 'confluent_kafka', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_dag_wiring(dag) -> None:
    from datetime import timedelta

    from market_pipeline.settings import load_settings
    from pipeline_airflow.defaults import OWNER, TAGS

    assert dag.max_active_runs == 1
    assert type(dag.timetable).__name__ == "ContinuousTimetable"
    assert set(TAGS) <= set(dag.tags)
    assert "How to stop" in dag.doc_md and "Params" in dag.doc_md
    task = dag.get_task("simulate")
    assert task.owner == OWNER and task.retries == 0, "a retry would restart the duration and hide losses"
    settings = load_settings()
    assert dag.params["rate"] == settings.simulator_rate
    assert dag.params["duration_s"] == settings.simulator_duration_seconds
    assert dag.params["max_broker_outage_s"] == settings.producer_outage_limit_seconds
    max_duration = dag.params.get_param("duration_s").schema["maximum"]
    assert task.execution_timeout > timedelta(seconds=max_duration)
    for name in (
        "rate",
        "duration_s",
        "universe",
        "seed",
        "continue_prices",
        "max_broker_outage_s",
        "mode",
        "replay_file",
        "always_open",
    ):
        assert dag.params.get_param(name).description, f"Param {name} needs a description for the form"


def test_default_params_are_valid(dag) -> None:
    copy.deepcopy(dag.params).validate()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rate", -1),
        ("rate", "fast"),
        ("duration_s", 0),
        ("duration_s", 10**9),
        ("duration_s", 1.5),
        ("universe", "AAPL;DROP TABLE"),
        ("universe", ""),
        ("seed", -3),
        ("mode", "backfill"),
        ("replay_file", 42),
        ("replay_speed", -0.5),
        ("always_open", "yes"),
        ("max_broker_outage_s", 5),
        ("continue_prices", "no"),
    ],
)
def test_params_reject_bad_values_naming_the_field(dag, field: str, value: object) -> None:
    from airflow.sdk.definitions.param import ParamValidationError

    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError, match=f"param {field}"):
        params[field] = value
        params.validate()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("universe", "AAPL, MSFT,NVDA"),
        ("universe", "default"),
        ("rate", 0),
        ("replay_file", "/data/indexProcessed.csv"),
    ],
)
def test_params_accept_good_values(dag, field: str, value: object) -> None:
    params = copy.deepcopy(dag.params)
    params[field] = value
    assert params.validate()[field] == value
