"""The schedules as the scheduler computes them: the DAGs serialized, then asked for their next runs.

Two promises: the continuous simulator gets a next run after its first one (without a start_date the
next run had the first one's logical date and was never created), and ingest and catalog give every
interval a run, also after a stop (with catchup off the scheduler jumped to the newest interval and the
ones in between got none).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import load_dag


def _serialized(dag_id: str):
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.from_dict(DagSerialization.to_dict(load_dag(dag_id)))


def test_the_continuous_simulator_gets_a_second_run_with_its_own_logical_date():
    dag = _serialized("stock_market_simulator")
    first = dag.next_dagrun_info(last_automated_run_info=None)
    assert first is not None
    time.sleep(0.01)  # the continuous timetable reads the clock: the second run comes later
    second = dag.next_dagrun_info(last_automated_run_info=first)
    assert second is not None
    assert second.logical_date > first.logical_date, "the next run would clash with the first one"
    assert second.data_interval.start == first.data_interval.end, "runs follow each other back to back"


@pytest.mark.parametrize("dag_id", ["stock_market_ingest", "stock_market_catalog"])
def test_every_interval_gets_a_run_after_a_stop(dag_id, monkeypatch):
    """The last run was an hour ago (the stack was stopped): the next run is the interval right after it."""
    import pendulum
    from airflow.timetables.base import DagRunInfo, DataInterval

    monkeypatch.setenv("PIPELINE_INTERVAL_MINUTES", "5")
    monkeypatch.setenv("PIPELINE_START_DATE", "2026-11-20T08:00:00Z")
    dag = _serialized(dag_id)
    assert dag.catchup is True
    assert dag.start_date == datetime(2026, 11, 20, 8, 0, tzinfo=UTC), "the recorded PIPELINE_START_DATE"

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    last_start = pendulum.instance(now.replace(minute=now.minute - now.minute % 5) - timedelta(hours=1))
    last = DagRunInfo.interval(last_start, last_start + timedelta(minutes=5))
    after = dag.next_dagrun_info(last_automated_run_info=last)
    assert after is not None
    assert after.data_interval == DataInterval(last_start + timedelta(minutes=5), last_start + timedelta(minutes=10))

    first = dag.next_dagrun_info(last_automated_run_info=None)
    assert first is not None and first.data_interval.start == dag.start_date, "the first run owns the start date"


@pytest.mark.parametrize("dag_id", ["stock_market_ingest", "stock_market_catalog"])
def test_no_start_date_is_a_clear_error(dag_id, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from tests.support import ROOT

    monkeypatch.delenv("PIPELINE_START_DATE")
    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"), safe_mode=False)
    (error,) = bag.import_errors.values()
    assert "PIPELINE_START_DATE is not set" in error and "make up" in error


def test_the_catalogs_athena_queries_share_the_athena_pool():
    from devstack.airflow import POOLS
    from pipeline_airflow.defaults import ATHENA_POOL

    dag = load_dag("stock_market_catalog")
    athena_tasks = {
        t.task_id
        for t in dag.tasks
        if t.task_type in ("AthenaOperator", "SQLValueCheckOperator") or t.task_id == "check_bars_match_pandas"
    }
    assert {"validation_stats", "build_bars", "create_bars_table", "check_bars_match_pandas"} <= athena_tasks
    assert {t: dag.get_task(t).pool for t in athena_tasks} == dict.fromkeys(athena_tasks, ATHENA_POOL)
    assert ATHENA_POOL in POOLS, "make up creates the pool the DAG uses"
