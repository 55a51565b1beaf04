"""The real scheduler: REST-triggered runs, scheduled ingest/catalog runs, and the README's backfills.

The stack (api-server, scheduler, dag-processor, triggerer on its own PostgreSQL database) runs against
the real broker and the local AWS endpoint with 1-minute intervals; every assertion goes through the
REST API. The backfill commands are read from the README and run once each, while the scheduler keeps
scheduling: there is no retry, because on PostgreSQL the CLI must work the first time.
"""

from __future__ import annotations

import itertools
import re
import shlex
from datetime import datetime, timedelta

import pytest

from tests.support import ROOT, wait_for

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


def _readme_backfill_commands() -> dict[str, list[str]]:
    """The README's `scripts/airflow backfill create ...` commands, by DAG id, as CLI arguments."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    commands = {}
    for line in text.splitlines():
        if line.strip().startswith("scripts/airflow backfill create"):
            args = shlex.split(line)[1:]
            commands[args[args.index("--dag-id") + 1]] = args
    return commands


def _with_dates(args: list[str], from_date: str, to_date: str) -> list[str]:
    args = list(args)
    args[args.index("--from-date") + 1] = from_date
    args[args.index("--to-date") + 1] = to_date
    return args


def _settled_window(api) -> list[str] | None:
    """The earliest three consecutive intervals whose ingest runs succeeded and whose catalog runs (if
    any) have finished, all older than the newest catalog run (so no new scheduled run can appear)."""
    ingest = {r["data_interval_start"]: r["state"] for r in _runs(api, "stock_market_ingest")}
    catalog = {r["data_interval_start"]: r["state"] for r in _runs(api, "stock_market_catalog")}
    done = sorted(start for start, state in ingest.items() if state == "success")
    for i in range(len(done) - 2):
        window = done[i : i + 3]
        times = [datetime.fromisoformat(start) for start in window]
        consecutive = all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(times))
        settled = all(catalog.get(start, "none") in ("success", "none") for start in window)
        if consecutive and settled and catalog and max(catalog) > window[-1]:
            return window
    return None


def _interval_runs(api, dag_id: str, starts: set[str]) -> dict[str, dict]:
    return {r["data_interval_start"]: r for r in _runs(api, dag_id) if r["data_interval_start"] in starts}


def _xcom(api, dag_id: str, run_id: str, task_id: str):
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
    return api.get(path)["value"]


@pytest.fixture
def paused_afterwards(airflow_stack):
    """The stack is shared by the session: stop scheduling the pipeline once this test is done with it."""
    yield
    for dag_id in ("stock_market_simulator", "stock_market_ingest", "stock_market_catalog"):
        airflow_stack.client.patch(f"/api/v2/dags/{dag_id}", {"is_paused": True})


def test_scheduled_runs_and_the_readme_backfills_while_the_scheduler_runs(airflow_stack, paused_afterwards):
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
            len(_succeeded(api, "stock_market_ingest", "scheduled")) >= 3
            and len(_succeeded(api, "stock_market_catalog", "scheduled")) >= 3
        )

    wait_for(enough_scheduled_runs, timeout=600, what="scheduled ingest and catalog runs to succeed", interval=3)

    # Backfill three consecutive intervals that ingest has finished and where no catalog run is in flight:
    # a backfill skips an interval whose run is still queued or running, and the catalog (one run at a
    # time, catchup off) may have no run at all for an interval it fell behind on. The dry run must then
    # list exactly the three intervals before anything is created.
    starts = wait_for(lambda: _settled_window(api), timeout=300, what="three settled consecutive intervals", interval=3)
    ingest_before = {
        start: _xcom(api, "stock_market_ingest", run["dag_run_id"], "seal_window")
        for start, run in _interval_runs(api, "stock_market_ingest", set(starts)).items()
    }

    commands = _readme_backfill_commands()
    assert set(commands) == {"stock_market_catalog", "stock_market_ingest"}, commands
    for dag_id in ("stock_market_catalog", "stock_market_ingest"):
        # Dates are interval starts and --to-date is inclusive: first..third start gives three runs.
        args = _with_dates(commands[dag_id], starts[0], starts[2])
        dry = airflow_stack.cli(*args, "--dry-run")
        assert dry.returncode == 0, dry.stdout[-2000:] + dry.stderr[-2000:]
        table = dry.stdout.split("Runs to be attempted:")[-1]
        listed = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", table)
        expected = [datetime.fromisoformat(s).strftime("%Y-%m-%d %H:%M:%S") for s in starts]
        assert listed == expected, f"{dag_id}: the dry run does not list exactly the three intervals:\n{table}"
        created = airflow_stack.cli(*args)
        assert created.returncode == 0, f"{dag_id} backfill failed:\n{created.stdout[-2000:]}{created.stderr[-2000:]}"

    def backfilled(dag_id: str) -> bool:
        runs = [r for r in _runs(api, dag_id) if r["run_type"] == "backfill"]
        failed = [r["dag_run_id"] for r in runs if r["state"] == "failed"]
        assert not failed, f"{dag_id} backfill runs failed: {failed}"
        done = {r["data_interval_start"] for r in runs if r["state"] == "success"}
        backfills = api.get(f"/api/v2/backfills?dag_id={dag_id}")["backfills"]
        return set(starts) <= done and all(b["completed_at"] for b in backfills)

    wait_for(
        lambda: backfilled("stock_market_catalog") and backfilled("stock_market_ingest"),
        timeout=480,
        what="the catalog and ingest backfill runs to succeed",
        interval=3,
    )

    for dag_id in ("stock_market_catalog", "stock_market_ingest"):
        backfills = api.get(f"/api/v2/backfills?dag_id={dag_id}")["backfills"]
        assert len(backfills) == 1, backfills
        runs = [r for r in _runs(api, dag_id) if r["run_type"] == "backfill"]
        assert sorted(r["data_interval_start"] for r in runs) == starts, "exactly the three intervals, once each"
        for run in runs:
            start = datetime.fromisoformat(run["data_interval_start"])
            end = datetime.fromisoformat(run["data_interval_end"])
            assert (end - start).total_seconds() == 60, run

    # Each catalog backfill run validated its own interval: its report has the interval's manifest rows.
    report_rows = {}
    for run in [r for r in _runs(api, "stock_market_catalog") if r["run_type"] == "backfill"]:
        ti = api.get(
            f"/api/v2/dags/stock_market_catalog/dagRuns/{run['dag_run_id']}/taskInstances/write_validation_report"
        )
        assert ti["state"] == "success", ti
        report = _xcom(api, "stock_market_catalog", run["dag_run_id"], "write_validation_report")
        assert report["status"] == "passed"
        assert datetime.fromisoformat(report["interval_start"]) == datetime.fromisoformat(run["data_interval_start"])
        report_rows[run["data_interval_start"]] = report["athena_rows"]
    assert sum(report_rows.values()) > 0, "the backfilled intervals held no ticks"

    # Each ingest backfill run rewrote its window identically: same messages, rows, objects and bytes.
    same = ("manifest_key", "messages_in", "rows_out", "dlq_count", "data_objects", "bytes_written")
    for start, run in _interval_runs(api, "stock_market_ingest", set(starts)).items():
        after = _xcom(api, "stock_market_ingest", run["dag_run_id"], "seal_window")
        assert {k: after[k] for k in same} == {k: ingest_before[start][k] for k in same}, start
