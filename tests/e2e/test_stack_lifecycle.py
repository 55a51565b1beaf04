"""The stack's life cycle with `make` itself: the metadata survives a restart, `make up` runs once.

On a throw-away stack (its own state directory and ports: PostgreSQL, Kafka, the local AWS endpoint and
Airflow), exactly as a user types it: `make up`; a second `make up` is refused and changes nothing;
`make restart` of the broker and of the endpoint under the running stack; a backfill with the README's
`scripts/airflow` command; `make stop` (nothing left running); `make services` and `make up` again,
where finished runs, their XComs, the backfill and the pool are all back; Ctrl-C then stops only what
that `make up` started (Airflow), not the services it found running. It never touches the session's
services.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devstack.airflow import AirflowClient
from devstack.processes import free_port, pids_with_argument
from tests.support import ROOT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PIPELINE_DAGS = {"stock_market_setup", "stock_market_simulator", "stock_market_ingest", "stock_market_catalog"}
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# What the session sets for its own tests; the throw-away stack must see only its own configuration.
SESSION_ONLY = ("AIRFLOW_HOME", "AIRFLOW__", "AIRFLOW_CONN_", "PIPELINE_", "KAFKA_BOOTSTRAP", "LOCAL_AWS_ENDPOINT")


@dataclass
class ThrowAwayStack:
    state_dir: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['AIRFLOW_API_PORT']}"

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)

    def make(self, target: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run("make", "--no-print-directory", target, timeout=timeout)

    def make_with(self, *variables: str, target: str) -> subprocess.CompletedProcess[str]:
        return self.run("make", "--no-print-directory", target, *variables, timeout=300)

    def up(self, name: str) -> subprocess.Popen[bytes]:
        """`make up` in the background, as in a terminal; returns once it printed its banner."""
        log = self.state_dir.parent / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["make", "--no-print-directory", "up"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        deadline = time.monotonic() + 420
        while "Airflow UI" not in log.read_text(errors="replace"):
            if proc.poll() is not None:
                raise AssertionError(f"`make up` exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"`make up` printed no banner within 420 s:\n{log.read_text()[-4000:]}")
            time.sleep(1)  # polling the log for a condition, bounded by the deadline
        return proc

    def component_pids(self) -> dict[str, int]:
        run = self.state_dir / "run"
        return {name: int((run / f"airflow-{name}.pid").read_text()) for name in COMPONENTS}

    def service_pids(self) -> dict[str, int]:
        files = {
            "postgres": self.state_dir / "run" / "postgres.pid",
            "kafka": self.state_dir / "kafka" / "kafka.pid",
            "local-aws": self.state_dir / "run" / "local-aws.pid",
        }
        return {name: int(path.read_text()) for name, path in files.items()}

    def client(self) -> AirflowClient:
        return AirflowClient(self.url, "admin", "admin")


@pytest.fixture(scope="module")
def throwaway_stack() -> Iterator[ThrowAwayStack]:
    # Under the session's state directory (not /tmp/pytest-of-*, which the `postgres` user cannot enter).
    base = Path(os.environ.get("STATE_DIR", ROOT / ".state")) / f"lifecycle-{uuid.uuid4().hex[:8]}"
    state_dir = base / ".state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(SESSION_ONLY)}
    env.update(
        STATE_DIR=str(state_dir),
        KAFKA_PORT=str(free_port()),
        KAFKA_CONTROLLER_PORT=str(free_port()),
        LOCAL_AWS_PORT=str(free_port()),
        AIRFLOW_API_PORT=str(free_port()),
        POSTGRES_PORT=str(free_port()),
    )
    base.mkdir(parents=True)
    stack = ThrowAwayStack(state_dir=state_dir, env=env)
    yield stack
    stack.make("stop", timeout=300)
    for pid in pids_with_argument(str(state_dir)):  # anything `make stop` missed would be a bug: leave nothing
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _finished_runs(api: AirflowClient) -> dict[str, dict]:
    runs = {}
    for dag_id in sorted(PIPELINE_DAGS):
        for run in api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]:
            if run["state"] in ("success", "failed"):
                keep = ("dag_id", "dag_run_id", "run_type", "state", "logical_date", "data_interval_start", "end_date")
                runs[f"{dag_id}/{run['dag_run_id']}"] = {k: run[k] for k in keep}
    return runs


def _xcoms(api: AirflowClient, dag_id: str, run_id: str) -> dict[str, object]:
    entries = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/~/xcomEntries?limit=100")
    values = {}
    for entry in entries["xcom_entries"]:
        # A mapped task (the ingest's ingest_partition) has one entry per map index; ask for that one.
        index = entry.get("map_index", -1)
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{entry['task_id']}/xcomEntries/{entry['key']}"
            f"?map_index={index}"
        )
        values[f"{entry['task_id']}[{index}]/{entry['key']}"] = api.get(path)["value"]
    return values


def _backfills(api: AirflowClient, dag_id: str) -> list[dict]:
    keep = ("id", "dag_id", "from_date", "to_date", "completed_at", "reprocess_behavior")
    return [{k: b[k] for k in keep} for b in api.get(f"/api/v2/backfills?dag_id={dag_id}")["backfills"]]


def test_restart_keeps_the_metadata_and_a_second_up_is_refused(throwaway_stack: ThrowAwayStack) -> None:
    stack = throwaway_stack
    # The first scheduled run is the latest interval that ended before the DAG was unpaused; the one
    # before it never gets a scheduled run, so the backfill below always creates its own run.
    before_up = datetime.now(UTC)
    first = stack.up("first-up")
    api = stack.client()
    assert api.dag_ids() >= PIPELINE_DAGS
    setup_runs = api.get("/api/v2/dags/stock_market_setup/dagRuns")["dag_runs"]
    assert len(setup_runs) == 1, "make up triggers one setup run"
    setup_run = setup_runs[0]["dag_run_id"]
    assert api.wait_for_run("stock_market_setup", setup_run, timeout=300) == "success"

    # A second `make up` on the same state refuses and leaves the first stack exactly as it was.
    holder = int((stack.state_dir / "run" / "up.lock").read_text())
    pids = stack.component_pids()
    second = stack.make("up", timeout=120)
    output = second.stdout + second.stderr
    assert second.returncode != 0, output
    assert f"already running (pid {holder}); `make stop` first" in output, output
    assert "stopping" not in output.lower(), "the refused `make up` must not run any cleanup"
    assert first.poll() is None, "the first `make up` is still in the foreground"
    assert stack.component_pids() == pids
    assert all(_alive(pid) for pid in pids.values())
    assert api.get("/api/v2/monitor/health")["metadatabase"]["status"] == "healthy"

    # One service restarts under the running stack, with its data (make restart, as the README says).
    kafka_pid_file = stack.state_dir / "kafka" / "kafka.pid"
    aws_pid_file = stack.state_dir / "run" / "local-aws.pid"
    before = {"kafka": int(kafka_pid_file.read_text()), "local-aws": int(aws_pid_file.read_text())}
    for service in ("kafka", "local-aws"):
        restarted = stack.make_with(f"SERVICE={service}", target="restart")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = {"kafka": int(kafka_pid_file.read_text()), "local-aws": int(aws_pid_file.read_text())}
    assert all(after[name] != before[name] and _alive(after[name]) for name in before), (before, after)
    assert not any(_alive(pid) for pid in before.values()), "the old processes are gone"
    refused = stack.make_with("SERVICE=postgres", target="restart")
    assert refused.returncode != 0 and "make stop" in refused.stdout + refused.stderr
    assert first.poll() is None and stack.component_pids() == pids

    # The README's backfill command, through the wrapper, with nothing but this stack's STATE_DIR and ports.
    interval = _closed_interval_start(before_up, minutes=5, back=2)
    backfill = stack.run(
        "scripts/airflow",
        "backfill",
        "create",
        "--dag-id",
        "stock_market_ingest",
        "--from-date",
        interval,
        "--to-date",
        interval,
        "--reprocess-behavior",
        "completed",
    )
    assert backfill.returncode == 0, backfill.stdout[-2000:] + backfill.stderr[-2000:]

    def backfill_done() -> bool:
        backfills = api.get("/api/v2/backfills?dag_id=stock_market_ingest")["backfills"]
        return len(backfills) == 1 and backfills[0]["completed_at"] is not None

    wait_for(backfill_done, timeout=300, what="the ingest backfill to complete", interval=2)
    runs_before = _finished_runs(api)
    backfill_runs = [r for r in runs_before.values() if r["run_type"] == "backfill"]
    assert len(backfill_runs) == 1 and backfill_runs[0]["dag_id"] == "stock_market_ingest", (
        backfill_runs,
        api.get("/api/v2/dags/stock_market_ingest/dagRuns?limit=100")["dag_runs"],
        backfill.stdout[-3000:],
    )
    assert backfill_runs[0]["state"] == "success", backfill_runs
    xcoms_before = {
        "setup": _xcoms(api, "stock_market_setup", setup_run),
        "backfill": _xcoms(api, "stock_market_ingest", backfill_runs[0]["dag_run_id"]),
    }
    assert xcoms_before["setup"] and xcoms_before["backfill"], xcoms_before
    backfills_before = _backfills(api, "stock_market_ingest")

    # `make stop` from another terminal: the first `make up` sees it and exits cleanly; nothing is left.
    stopped = stack.make("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert first.wait(timeout=120) == 0
    assert not [pid for pid in pids.values() if _alive(pid)], "an Airflow component outlived `make stop`"
    leftovers = pids_with_argument(str(stack.state_dir))
    assert not leftovers, f"processes of the stopped stack still run: {leftovers}"
    status = stack.make("status").stdout
    assert "running (pid" not in status, status
    assert (stack.state_dir / "postgres" / "data" / "PG_VERSION").exists(), "the data is kept"

    # `make services`, then `make up` again on the same state: this `make up` starts only Airflow.
    # Migrations, pools and setup are idempotent, and the history is back.
    services = stack.make("services")
    assert services.returncode == 0, services.stdout + services.stderr
    service_pids = stack.service_pids()
    again = stack.up("second-up")
    try:
        api = stack.client()
        runs_after = _finished_runs(api)
        for key, run in runs_before.items():
            assert runs_after.get(key) == run, f"{key} changed across the restart"
        assert _xcoms(api, "stock_market_setup", setup_run) == xcoms_before["setup"]
        assert _xcoms(api, "stock_market_ingest", backfill_runs[0]["dag_run_id"]) == xcoms_before["backfill"]
        assert _backfills(api, "stock_market_ingest") == backfills_before
        assert api.get("/api/v2/pools/athena")["slots"] == 4
        status = stack.make("status").stdout
        assert "postgres" in status and "running (pid" in status, status

        # Ctrl-C in its terminal stops what this `make up` started (Airflow), not the services it found.
        airflow_pids = stack.component_pids()
        os.killpg(again.pid, signal.SIGINT)
        again.wait(timeout=180)
        assert "stopping what this `make up` started" in (stack.state_dir.parent / "second-up.log").read_text()
        assert not [pid for pid in airflow_pids.values() if _alive(pid)], "Ctrl-C left Airflow running"
        assert stack.service_pids() == service_pids and all(_alive(pid) for pid in service_pids.values())
    finally:
        stack.make("stop")
        again.wait(timeout=120)
    assert not pids_with_argument(str(stack.state_dir)), "make stop left processes of the stack"


def test_the_airflow_wrapper_uses_the_stack_configuration(throwaway_stack: ThrowAwayStack) -> None:
    """AIRFLOW_HOME alone is not the stack's configuration; `scripts/airflow` gives the CLI all of it."""
    values = {}
    for section, key in (("core", "dags_folder"), ("core", "executor"), ("database", "sql_alchemy_conn")):
        result = throwaway_stack.run("scripts/airflow", "config", "get-value", section, key, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        values[key] = result.stdout.strip()
    assert values["dags_folder"] == str(ROOT / "dags")
    assert values["executor"] == "LocalExecutor"
    port = throwaway_stack.env["POSTGRES_PORT"]
    assert values["sql_alchemy_conn"].startswith("postgresql+psycopg://airflow:")
    assert values["sql_alchemy_conn"].endswith(f"@127.0.0.1:{port}/airflow")


def test_pools_are_created_then_updated_in_place(airflow_stack) -> None:
    """A restart re-applies the pools: an existing pool is updated (Airflow 3.3 wants include_deferred)."""
    api = airflow_stack.client
    name = f"pool_{uuid.uuid4().hex[:8]}"
    api.ensure_pool(name, 2, "first")
    api.ensure_pool(name, 3, "second")
    pool = api.get(f"/api/v2/pools/{name}")
    assert (pool["slots"], pool["description"]) == (3, "second")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def _closed_interval_start(now: datetime, minutes: int, back: int) -> str:
    """The start of the interval `back` intervals before the one holding `now` (ended by then)."""
    current = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    return (current - timedelta(minutes=minutes * back)).isoformat()
