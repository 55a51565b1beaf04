"""The real scheduler: REST-triggered runs, scheduled ingest/catalog runs, and a CLI backfill of the catalog.

The stack (api-server, scheduler, dag-processor, triggerer on SQLite) runs against the real broker and
the local AWS endpoint with 1-minute intervals; every assertion goes through the REST API.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PIPELINE_DAGS = {"stock_market_setup", "stock_market_simulator", "stock_market_ingest", "stock_market_catalog"}


def _runs(api, dag_id: str) -> list[dict]:
    runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]
    return sorted(runs, key=lambda r: r.get("data_interval_start") or r.get("run_after") or "")


def _succeeded(api, dag_id: str, run_type: str) -> list[dict]:
    return [r for r in _runs(api, dag_id) if r["run_type"] == run_type and r["state"] == "success"]


def _no_failures(api, dag_id: str) -> None:
    failed = [r["dag_run_id"] for r in _runs(api, dag_id) if r["state"] == "failed"]
    assert not failed, f"{dag_id} runs failed: {failed}"


def test_scheduled_runs_and_a_catalog_backfill(airflow_stack):
    api = airflow_stack.client
    wait_for(
        lambda: api.dag_ids() >= PIPELINE_DAGS, timeout=240, what="the DAG processor to parse the DAGs", interval=2
    )

    api.unpause("stock_market_setup")
    setup_run = api.trigger("stock_market_setup")
    assert api.wait_for_run("stock_market_setup", setup_run, timeout=240) == "success"

    # The simulator is continuous: unpausing it starts a run with the default Params (and the next one
    # when it ends), which is how the pipeline is fed in production.
    api.unpause("stock_market_simulator")
    wait_for(
        lambda: any(r["state"] == "running" for r in _runs(api, "stock_market_simulator")),
        timeout=180,
        what="the continuous simulator run to start",
        interval=1,
    )

    # Scheduled runs: with catchup off, each unpaused DAG runs every closed 1-minute interval from now on.
    api.unpause("stock_market_ingest")
    api.unpause("stock_market_catalog")

    def enough_scheduled_runs() -> bool:
        _no_failures(api, "stock_market_ingest")
        _no_failures(api, "stock_market_catalog")
        return (
            len(_succeeded(api, "stock_market_ingest", "scheduled")) >= 4
            and len(_succeeded(api, "stock_market_catalog", "scheduled")) >= 2
        )

    wait_for(enough_scheduled_runs, timeout=480, what="scheduled ingest and catalog runs to succeed", interval=3)

    # Backfill the catalog over three past intervals that ingest has completed.
    ingested = _succeeded(api, "stock_market_ingest", "scheduled")
    first, last = ingested[0], ingested[2]
    args = [
        "backfill",
        "create",
        "--dag-id",
        "stock_market_catalog",
        "--from-date",
        first["data_interval_start"],
        "--to-date",
        last["data_interval_start"],
        "--reprocess-behavior",
        "completed",
        "--max-active-runs",
        "1",
    ]

    # SQLite allows one writer: the CLI can meet "database is locked" while the scheduler writes,
    # possibly after the backfill row was committed. Retry only while no backfill exists.
    def backfills() -> list[dict]:
        return api.get("/api/v2/backfills?dag_id=stock_market_catalog")["backfills"]

    for _attempt in range(5):
        result = airflow_stack.cli(*args)
        if result.returncode == 0 or backfills():
            break
        assert "database is locked" in result.stdout + result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(backfills()) == 1, result.stdout[-2000:] + result.stderr[-2000:]
    wanted = {first["data_interval_start"], ingested[1]["data_interval_start"], last["data_interval_start"]}

    def backfilled() -> bool:
        runs = [r for r in _runs(api, "stock_market_catalog") if r["run_type"] == "backfill"]
        failed = [r for r in runs if r["state"] == "failed"]
        assert not failed, f"backfill runs failed: {[r['dag_run_id'] for r in failed]}"
        done = {r["data_interval_start"] for r in runs if r["state"] == "success"}
        return wanted <= done

    wait_for(backfilled, timeout=480, what="the catalog backfill runs to succeed", interval=3)

    backfill_runs = [r for r in _runs(api, "stock_market_catalog") if r["run_type"] == "backfill"]
    assert len(backfill_runs) >= 3
    for run in backfill_runs:
        start = datetime.fromisoformat(run["data_interval_start"])
        end = datetime.fromisoformat(run["data_interval_end"])
        assert (end - start).total_seconds() == 60, run
    # Each backfill run validated its own interval: its report has the interval's manifest rows.
    report_rows = {}
    for run in backfill_runs:
        ti = api.get(
            f"/api/v2/dags/stock_market_catalog/dagRuns/{run['dag_run_id']}/taskInstances/write_validation_report"
        )
        assert ti["state"] == "success", ti
        xcom = api.get(
            f"/api/v2/dags/stock_market_catalog/dagRuns/{run['dag_run_id']}"
            "/taskInstances/write_validation_report/xcomEntries/return_value"
        )
        report = xcom["value"]
        assert report["status"] == "passed"
        assert datetime.fromisoformat(report["interval_start"]) == datetime.fromisoformat(run["data_interval_start"])
        report_rows[run["data_interval_start"]] = report["athena_rows"]
    assert sum(report_rows.values()) > 0, "the backfilled intervals held no ticks"
