"""A day in the life of the pipeline, in about ten minutes of 1-minute intervals, through `make` itself.

On a throw-away stack (its own state directory and ports), exactly as a user types it:

- `make up` on a fresh stack: setup runs first, and only once it succeeded are the simulator, ingest
  and catalog unpaused (the first ingest runs used to race setup);
- a second `make up` is refused and changes nothing; `make restart` of the broker and the endpoint
  works under the running stack, of PostgreSQL is refused;
- the README's ingest backfill of an interval that ended before the stack started (before
  PIPELINE_START_DATE, so no scheduled run can own it), with nothing but the stack's own settings;
- a manual simulator run with other Params takes over from the continuous run within seconds;
- the broker is killed (SIGKILL) and restarted with `make restart SERVICE=kafka`: the simulator waits
  the outage out (shorter than its limit), ingest retries;
- `make stop` while a simulator run produces (it flushes and succeeds; nothing is left running), then
  `make services` and `make up` on the same state: runs, XComs, the backfill and the pool are back and
  the intervals that passed meanwhile are caught up;
- the README's backfill commands run while the scheduler schedules;
- the continuous simulator ran at least three times back to back.

At the end: no gaps (every interval since PIPELINE_START_DATE has a manifest, a succeeded ingest run,
a succeeded catalog run and a passed report), every acknowledged tick is one row in Athena, no task
failed, and the simulator's undelivered count equals what the broker did not get. The Market pipeline
page reports the same. Ctrl-C then stops only what the second `make up` started.

This test replaces the separate real-scheduler test and the stack life-cycle test: their assertions
(REST-triggered setup, scheduled runs, the README's backfills once each while the scheduler runs; a
refused second `make up`, `make restart`, `make stop` leaving nothing, history kept) are all here, on
one stack instead of three.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from devstack.airflow import AirflowClient
from devstack.processes import pids_with_argument
from simulator.continuity import HANDED_OVER
from tests.stacks import ThrowAwayStack, alive, throwaway_stack
from tests.support import ROOT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SETUP, SIMULATOR, INGEST, CATALOG = (
    "stock_market_setup",
    "stock_market_simulator",
    "stock_market_ingest",
    "stock_market_catalog",
)
PIPELINE_DAGS = (SETUP, SIMULATOR, INGEST, CATALOG)
INTERVAL = timedelta(minutes=1)
# Settings a user could give `make up`: 1-minute intervals, short simulator runs at a laptop-friendly
# rate, retries quick enough for a broker outage of half a minute. Everything else is make up's default.
SETTINGS = {
    "PIPELINE_INTERVAL_MINUTES": "1",
    "PIPELINE_SIMULATOR_RATE": "40",
    "PIPELINE_SIMULATOR_DURATION_SECONDS": "45",
    "PIPELINE_RETRY_DELAY_SECONDS": "5",
    "PIPELINE_TASK_RETRIES": "4",
}
BROKER_DOWN_S = 10  # plus the restart: an outage well inside the simulator's 300 s limit


@pytest.fixture(scope="module")
def life() -> Iterator[ThrowAwayStack]:
    with throwaway_stack("life", **SETTINGS) as stack:
        yield stack


# ---------------------------------------------------------------------------------------------------
# REST helpers
# ---------------------------------------------------------------------------------------------------


def _runs(api: AirflowClient, dag_id: str) -> list[dict]:
    runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]
    return sorted(runs, key=lambda r: (r.get("start_date") or "9", r["run_after"]))


def _run(api: AirflowClient, dag_id: str, run_id: str) -> dict:
    return api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")


def _xcom(api: AirflowClient, dag_id: str, run_id: str, task_id: str, key: str = "return_value"):
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
    try:
        return api.get(path)["value"]
    except Exception:
        return None


def _by_interval(api: AirflowClient, dag_id: str) -> dict[datetime, list[dict]]:
    out: dict[datetime, list[dict]] = {}
    for run in _runs(api, dag_id):
        if run.get("data_interval_start"):
            out.setdefault(datetime.fromisoformat(run["data_interval_start"]), []).append(run)
    return out


def _failed_task_instances(api: AirflowClient) -> list[str]:
    failed = []
    for dag_id in PIPELINE_DAGS:
        path = f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?state=failed&state=upstream_failed&limit=100"
        failed += [f"{dag_id}/{t['dag_run_id']}/{t['task_id']}" for t in api.get(path)["task_instances"]]
    return failed


def _unfinished_task_instances(api: AirflowClient) -> list[str]:
    """Task instances of the ingest and catalog that have not ended, with state, try and start (for a stuck run)."""
    states = "&".join(
        f"state={s}" for s in ("running", "queued", "scheduled", "up_for_retry", "deferred", "restarting")
    )
    unfinished = []
    for dag_id in (INGEST, CATALOG):
        path = f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?{states}&limit=100"
        unfinished += [
            f"{dag_id}/{t['dag_run_id']}/{t['task_id']}[{t.get('map_index', -1)}]: {t['state']} "
            f"try {t.get('try_number')} since {t.get('start_date')}"
            for t in api.get(path)["task_instances"]
        ]
    return unfinished


def _finished_runs(api: AirflowClient) -> dict[str, dict]:
    keep = ("dag_id", "dag_run_id", "run_type", "state", "logical_date", "data_interval_start", "end_date")
    return {
        f"{dag_id}/{run['dag_run_id']}": {k: run[k] for k in keep}
        for dag_id in PIPELINE_DAGS
        for run in _runs(api, dag_id)
        if run["state"] in ("success", "failed")
    }


def _xcoms(api: AirflowClient, dag_id: str, run_id: str) -> dict[str, object]:
    """Every XCom of a run, by task and key."""
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


def _readme_backfill_commands() -> dict[str, list[str]]:
    """The README's `scripts/airflow backfill create ...` commands, by DAG id, as CLI arguments."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    commands = {}
    for line in text.splitlines():
        if line.strip().startswith("scripts/airflow backfill create"):
            args = shlex.split(line)
            commands[args[args.index("--dag-id") + 1]] = args
    return commands


def _with_dates(args: list[str], from_date: str, to_date: str) -> list[str]:
    args = list(args)
    args[args.index("--from-date") + 1] = from_date
    args[args.index("--to-date") + 1] = to_date
    return args


# ---------------------------------------------------------------------------------------------------
# The lake and the broker
# ---------------------------------------------------------------------------------------------------


def _boto(stack: ThrowAwayStack, service: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _topic_messages(stack: ThrowAwayStack) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": f"life-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics("stock_market_data", timeout=30).topics["stock_market_data"].partitions
        total = 0
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition("stock_market_data", p), timeout=30)
            total += high - low
        return total
    finally:
        consumer.close()


def _athena_counts(stack: ThrowAwayStack) -> tuple[int, int, int]:
    """Rows, distinct (partition, offset) and distinct (symbol, seq) of the raw table."""
    from market_ui.queries import AthenaRunner

    runner = AthenaRunner(
        client=lambda: _boto(stack, "athena"),
        workgroup="stock_market",
        output_location="s3://stock-market-lake/athena-results/",
        database="stock_market",
        timeout=120,
    )
    (row,) = runner.query(
        "SELECT count(*) AS n, count(DISTINCT (kafka_partition, kafka_offset)) AS d,"
        " count(DISTINCT (symbol, seq)) AS s FROM stock_market.ticks"
    )
    return int(row["n"]), int(row["d"]), int(row["s"])


# ---------------------------------------------------------------------------------------------------
# The day
# ---------------------------------------------------------------------------------------------------


def test_the_airflow_wrapper_uses_the_stack_configuration(life: ThrowAwayStack) -> None:
    """AIRFLOW_HOME alone is not the stack's configuration; `scripts/airflow` gives the CLI all of it."""
    values = {}
    for section, key in (("core", "dags_folder"), ("core", "executor"), ("database", "sql_alchemy_conn")):
        result = life.run("scripts/airflow", "config", "get-value", section, key, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        values[key] = result.stdout.strip()
    assert values["dags_folder"] == str(ROOT / "dags")
    assert values["executor"] == "LocalExecutor"
    assert values["sql_alchemy_conn"].startswith("postgresql+psycopg://airflow:")
    assert values["sql_alchemy_conn"].endswith(f"@127.0.0.1:{life.env['POSTGRES_PORT']}/airflow")


# About 10 minutes when all is well; the last wait (up to 420 s) must be able to say what is missing
# before pytest's own timeout would cut it off without a word.
@pytest.mark.timeout(1800)
def test_a_day_in_the_life(life: ThrowAwayStack) -> None:
    stack = life
    started = time.monotonic()
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = round(time.monotonic() - started)
        print(f"[life] {marks[name]:4d} s  {name}", flush=True)

    # -- morning: a fresh stack ------------------------------------------------------------------------
    # Taken before `make up`: the interval two before the one holding it ended before the stack started
    # and lies before PIPELINE_START_DATE, so no scheduled run can ever own it (the backfill below).
    before_up = datetime.now(UTC)
    first = stack.up("first-up")
    api = stack.client()
    mark("make up: banner")
    start_date = datetime.fromisoformat((stack.state_dir / "airflow" / "pipeline_start_date").read_text().strip())
    assert api.dag_ids() >= set(PIPELINE_DAGS)
    setup_runs = _runs(api, SETUP)
    assert len(setup_runs) == 1, "make up triggers one setup run"
    setup_run = setup_runs[0]
    assert api.wait_for_run(SETUP, setup_run["dag_run_id"], timeout=300) == "success"
    wait_for(
        lambda: not any(api.get(f"/api/v2/dags/{d}")["is_paused"] for d in (SIMULATOR, INGEST, CATALOG)),
        120,
        "make up to unpause the simulator, ingest and catalog once setup succeeded",
        interval=1,
    )
    setup_end = _run(api, SETUP, setup_run["dag_run_id"])["end_date"]
    mark("setup succeeded, pipeline unpaused")

    # A second `make up` on the same state refuses and leaves the first stack exactly as it was.
    holder = int((stack.state_dir / "run" / "up.lock").read_text())
    pids = stack.component_pids()
    second_up = stack.make("up", timeout=120)
    output = second_up.stdout + second_up.stderr
    assert second_up.returncode != 0 and f"already running (pid {holder}); `make stop` first" in output, output
    assert "stopping" not in output.lower(), "the refused `make up` must not run any cleanup"
    assert first.poll() is None and stack.component_pids() == pids
    assert all(alive(pid) for pid in pids.values())
    assert api.get("/api/v2/monitor/health")["metadatabase"]["status"] == "healthy"

    # One service restarts under the running stack, with its data; the metadata DB only with the stack.
    before = {name: pid for name, pid in stack.service_pids().items() if name in ("kafka", "local-aws")}
    for service in before:
        restarted = stack.make("restart", f"SERVICE={service}")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = stack.service_pids()
    assert all(after[name] != pid and alive(after[name]) for name, pid in before.items()), (before, after)
    assert not any(alive(pid) for pid in before.values()), "the old processes are gone"
    refused = stack.make("restart", "SERVICE=postgres")
    assert refused.returncode != 0 and "make stop" in refused.stdout + refused.stderr
    assert first.poll() is None and stack.component_pids() == pids
    mark("second make up refused, broker and endpoint restarted")

    # The README's ingest backfill, through the wrapper, of an interval no scheduled run can own.
    early = (before_up.replace(second=0, microsecond=0) - 2 * INTERVAL).isoformat()
    assert datetime.fromisoformat(early) < start_date
    early_backfill = stack.run("scripts/airflow", *_with_dates(_readme_backfill_commands()[INGEST][1:], early, early))
    assert early_backfill.returncode == 0, early_backfill.stdout[-2000:] + early_backfill.stderr[-2000:]
    wait_for(
        lambda: [b["completed_at"] is not None for b in _backfills(api, INGEST)] == [True],
        300,
        "the ingest backfill of an interval before the start to complete",
        interval=2,
    )
    (early_run,) = [r for r in _runs(api, INGEST) if r["run_type"] == "backfill"]
    assert early_run["state"] == "success", early_run
    assert datetime.fromisoformat(early_run["data_interval_start"]) == datetime.fromisoformat(early)
    mark("backfill of an interval before the start done")

    # -- a manual run with other Params takes over from the continuous run ----------------------------
    def continuous_running_with_progress() -> dict | None:
        for run in _runs(api, SIMULATOR):
            producing = run["state"] == "running" and run["run_type"] == "scheduled"
            if producing and _xcom(api, SIMULATOR, run["dag_run_id"], "simulate", "progress"):
                return run
        return None

    def producing_for_a_while_yet() -> dict | None:  # so the next step lands mid-run
        run = continuous_running_with_progress()
        started = run and datetime.fromisoformat(run["start_date"])
        return run if started and datetime.now(UTC) - started < timedelta(seconds=20) else None

    continuous = wait_for(producing_for_a_while_yet, 240, "a continuous simulator run producing", interval=1)
    manual_id = api.trigger(SIMULATOR, conf={"rate": 60, "duration_s": 30})
    triggered_at = time.monotonic()

    def handed_over() -> bool:
        summary = _xcom(api, SIMULATOR, continuous["dag_run_id"], "simulate", "summary")
        return bool(summary) and _run(api, SIMULATOR, manual_id)["state"] in ("running", "success")

    wait_for(handed_over, 90, "the continuous run to hand over to the manual one", interval=1)
    assert time.monotonic() - triggered_at < 45, "the manual run started within seconds, not after the run"
    summary = _xcom(api, SIMULATOR, continuous["dag_run_id"], "simulate", "summary")
    assert summary["stop_reason"] == HANDED_OVER and summary["failed"] == 0, summary
    assert api.wait_for_run(SIMULATOR, continuous["dag_run_id"], timeout=60) == "success"
    assert api.wait_for_run(SIMULATOR, manual_id, timeout=180) == "success"
    manual_summary = _xcom(api, SIMULATOR, manual_id, "simulate")
    assert 45 <= manual_summary["rate"] <= 65, manual_summary  # its own Params
    mark("manual run took over and finished")

    # -- the broker is killed mid-run and comes back: the simulator waits it out, ingest retries -------
    fed_through_outage = wait_for(
        continuous_running_with_progress, 180, "the continuous schedule to resume producing", interval=1
    )
    broker_pid = stack.service_pids()["kafka"]
    os.kill(broker_pid, signal.SIGKILL)
    killed_at = datetime.now(UTC)
    time.sleep(BROKER_DOWN_S)  # the outage itself
    back = stack.make("restart", "SERVICE=kafka")
    assert back.returncode == 0, back.stdout + back.stderr
    back_at = datetime.now(UTC)
    mark(f"broker killed and restarted ({(back_at - killed_at).total_seconds():.0f} s down)")
    assert api.wait_for_run(SIMULATOR, fed_through_outage["dag_run_id"], timeout=400) == "success"
    survived = _xcom(api, SIMULATOR, fed_through_outage["dag_run_id"], "simulate")
    assert survived["failed"] == 0 and survived["stop_reason"] == "duration", survived

    def ingested_after_the_outage() -> bool:
        after = [s for s, runs in _by_interval(api, INGEST).items() if s >= back_at.replace(second=0, microsecond=0)]
        return any(r["state"] == "success" for s in after for r in _by_interval(api, INGEST)[s])

    wait_for(ingested_after_the_outage, 300, "an ingest run of an interval after the outage", interval=3)
    mark("simulator waited the outage out; ingest caught up")

    # -- evening: `make stop` while the simulator produces: it flushes and ends its run; the state stays --
    stopped_run = wait_for(producing_for_a_while_yet, 180, "a simulator run producing at the stop", interval=1)
    runs_before = _finished_runs(api)
    xcoms_before = {
        "setup": _xcoms(api, SETUP, setup_run["dag_run_id"]),
        "backfill": _xcoms(api, INGEST, early_run["dag_run_id"]),
    }
    assert xcoms_before["setup"] and xcoms_before["backfill"], xcoms_before
    backfills_before = _backfills(api, INGEST)
    stopped_at = datetime.now(UTC)
    stopped = stack.make("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert first.wait(timeout=120) == 0
    assert not [pid for pid in pids.values() if alive(pid)], "an Airflow component outlived `make stop`"
    assert not pids_with_argument(str(stack.state_dir)), "processes of the stopped stack still run"
    assert "running (pid" not in stack.make("status").stdout
    assert (stack.state_dir / "postgres" / "data" / "PG_VERSION").exists(), "the data is kept"
    mark("make stop: nothing left running")

    # -- next morning: `make services`, then `make up` on the same state --------------------------------
    services = stack.make("services")
    assert services.returncode == 0, services.stdout + services.stderr
    service_pids = stack.service_pids()
    second = stack.up("second-up")
    api = stack.client()
    restarted_at = datetime.now(UTC)
    mark("second make up: banner")
    try:
        runs_after = _finished_runs(api)
        for key, run in runs_before.items():
            assert runs_after.get(key) == run, f"{key} changed across the restart"
        assert _xcoms(api, SETUP, setup_run["dag_run_id"]) == xcoms_before["setup"]
        assert _xcoms(api, INGEST, early_run["dag_run_id"]) == xcoms_before["backfill"]
        assert _backfills(api, INGEST) == backfills_before
        assert api.get("/api/v2/pools/athena")["slots"] == 4
        status = stack.make("status").stdout
        assert "postgres" in status and "running (pid" in status, status
        stopped_summary = _xcom(api, SIMULATOR, stopped_run["dag_run_id"], "simulate", "summary")
        assert _run(api, SIMULATOR, stopped_run["dag_run_id"])["state"] == "success", stopped_summary
        assert stopped_summary["stop_reason"] == "stopped" and stopped_summary["failed"] == 0, stopped_summary
        wait_for(
            lambda: "keep the pause state you left" in stack.log("second-up"),
            300,
            "the second start's setup to succeed (pause states kept)",
            interval=2,
        )

        # The README's backfill commands, once each, while the scheduler schedules: three settled intervals.
        settled = wait_for(lambda: _settled_intervals(api), 300, "three settled consecutive intervals", interval=3)
        starts = [s.isoformat() for s in settled]
        before = {s: _xcom(api, INGEST, _succeeded(api, INGEST, s)["dag_run_id"], "seal_window") for s in settled}
        commands = _readme_backfill_commands()
        assert set(commands) == {CATALOG, INGEST}, commands
        args = {dag_id: _with_dates(commands[dag_id][1:], starts[0], starts[2]) for dag_id in (CATALOG, INGEST)}

        def cli_for_both(*extra: str) -> dict[str, subprocess.CompletedProcess[str]]:
            """The two DAGs' commands side by side (each CLI start costs seconds of CPU), each exactly once."""
            with ThreadPoolExecutor(2) as pool:
                futures = {
                    d: pool.submit(stack.run, "scripts/airflow", *a, *extra, timeout=300) for d, a in args.items()
                }
                return {d: f.result() for d, f in futures.items()}

        for dag_id, dry in cli_for_both("--dry-run").items():
            assert dry.returncode == 0, dry.stdout[-2000:] + dry.stderr[-2000:]
            listed = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", dry.stdout.split("Runs to be attempted:")[-1])
            assert listed == [s.strftime("%Y-%m-%d %H:%M:%S") for s in settled], f"{dag_id} dry run:\n{dry.stdout}"
        for created in cli_for_both().values():
            assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]
        mark("README backfills created")

        def backfilled() -> bool:
            new = {
                dag_id: [b for b in _backfills(api, dag_id) if b not in backfills_before]
                for dag_id in (CATALOG, INGEST)
            }
            assert all(len(b) == 1 for b in new.values()), new
            return all(b[0]["completed_at"] is not None for b in new.values())

        wait_for(backfilled, 480, "the README's backfills to complete", interval=3)
        for dag_id in (CATALOG, INGEST):
            runs = [
                r
                for r in _runs(api, dag_id)
                if r["run_type"] == "backfill" and datetime.fromisoformat(r["data_interval_start"]) in settled
            ]
            assert sorted(datetime.fromisoformat(r["data_interval_start"]) for r in runs) == settled, "once each"
            assert all(r["state"] == "success" for r in runs), runs
            for run in runs:
                start, end = (datetime.fromisoformat(run[k]) for k in ("data_interval_start", "data_interval_end"))
                assert end - start == INTERVAL, run
            if dag_id == CATALOG:  # each catalog backfill run validated its own interval
                for run in runs:
                    report = _xcom(api, CATALOG, run["dag_run_id"], "write_validation_report")
                    assert report["status"] == "passed", report
                    assert datetime.fromisoformat(report["interval_start"]) == datetime.fromisoformat(
                        run["data_interval_start"]
                    )
                assert sum(_xcom(api, CATALOG, r["dag_run_id"], "write_validation_report")["athena_rows"] for r in runs)
        for s in settled:  # ingest reruns rewrite their window identically
            run = next(r for r in _by_interval(api, INGEST)[s] if r["run_type"] == "backfill")
            after = _xcom(api, INGEST, run["dag_run_id"], "seal_window")
            same = ("manifest_key", "messages_in", "rows_out", "dlq_count", "data_objects", "bytes_written")
            assert {k: after[k] for k in same} == {k: before[s][k] for k in same}, s
        mark("README backfills done, identical")

        # -- close of business: the feed stops; every interval until then gets its runs ---------------
        def enough_simulator_runs() -> bool:
            done = [r for r in _runs(api, SIMULATOR) if r["state"] == "success"]
            return len(done) >= 6 and datetime.fromisoformat(done[-1]["end_date"]) > restarted_at

        wait_for(enough_simulator_runs, 300, "simulator runs after the restart", interval=3)
        api.patch(f"/api/v2/dags/{SIMULATOR}", {"is_paused": True})
        wait_for(
            lambda: not any(r["state"] in ("running", "queued") for r in _runs(api, SIMULATOR)),
            180,
            "the last simulator run to end",
            interval=2,
        )
        feed_stopped = datetime.now(UTC)
        mark("feed stopped")
        cutoff = feed_stopped.replace(second=0, microsecond=0) + INTERVAL  # holds the last appended tick
        expected = [start_date + i * INTERVAL for i in range(int((cutoff - start_date) / INTERVAL))]

        def gaps() -> dict[str, dict[str, list[str]]]:
            """Each expected interval without a successful ingest and catalog run, with its runs' states."""
            ingest, catalog = _by_interval(api, INGEST), _by_interval(api, CATALOG)
            return {
                s.isoformat(): {
                    "ingest": [r["state"] for r in ingest.get(s, ())],
                    "catalog": [r["state"] for r in catalog.get(s, ())],
                }
                for s in expected
                if not (
                    any(r["state"] == "success" for r in ingest.get(s, ()))
                    and any(r["state"] == "success" for r in catalog.get(s, ()))
                )
            }

        try:
            wait_for(lambda: not gaps(), 420, f"ingest and catalog runs for all {len(expected)} intervals", interval=5)
        except TimeoutError as exc:  # say which intervals, in which states, and what failed
            raise AssertionError(
                f"{exc}\ngaps: {gaps()}\nfailed tasks: {_failed_task_instances(api)}"
                f"\nunfinished tasks: {_unfinished_task_instances(api)}"
            ) from exc
        mark(f"no gaps: {len(expected)} intervals")

        # -- the day's books ------------------------------------------------------------------------------
        ingest, catalog = _by_interval(api, INGEST), _by_interval(api, CATALOG)
        earliest = min(
            datetime.fromisoformat(r["start_date"])
            for runs in (*ingest.values(), *catalog.values())
            for r in runs
            if r["start_date"]
        )
        assert earliest >= datetime.fromisoformat(setup_end), "ingest or catalog started before setup succeeded"
        stop_gap = [s for s in expected if stopped_at <= s + INTERVAL and s < restarted_at]
        assert stop_gap, "intervals passed while the stack was stopped"
        assert all(any(r["state"] == "success" for r in ingest[s]) for s in stop_gap), "caught up after the stop"

        s3 = _boto(stack, "s3")
        from market_pipeline import layout
        from market_pipeline.manifest import read_manifest

        manifests = {}
        for s in expected:
            manifest = read_manifest(s3, "stock-market-lake", layout.manifest_key("ticks", s + INTERVAL))
            assert manifest is not None, f"no manifest for [{s}, {s + INTERVAL})"
            manifests[s] = manifest
            report = s3.get_object(Bucket="stock-market-lake", Key=layout.report_key("ticks", s + INTERVAL))
            status = json.loads(report["Body"].read())["status"]
            assert status == "passed", f"report of [{s}, {s + INTERVAL}) {status}"

        simulator_runs = [r for r in _runs(api, SIMULATOR) if r["state"] in ("success", "failed")]
        summaries = [_xcom(api, SIMULATOR, r["dag_run_id"], "simulate", "summary") for r in simulator_runs]
        assert all(summaries), "every finished simulator run has its summary"
        sent = sum(s["sent"] for s in summaries)
        delivered = sum(s["delivered"] for s in summaries)
        undelivered = sum(s["failed"] for s in summaries)
        in_topic = _topic_messages(stack)
        assert undelivered == sent - in_topic, "the undelivered count is what the broker did not get"
        assert undelivered == 0, "the outage was shorter than the limit: nothing lost"
        assert delivered == in_topic
        assert sum(m.messages_in for m in manifests.values()) == in_topic, "every message in exactly one window"
        assert sum(m.rows_out for m in manifests.values()) == in_topic and not any(
            m.dlq_count for m in manifests.values()
        )
        # ... and seq never repeats for a symbol across the day's runs (bars take open and close by it)
        assert _athena_counts(stack) == (in_topic, in_topic, in_topic), "every acknowledged tick once in Athena"

        assert _failed_task_instances(api) == [], "no task failed"
        assert all(r["state"] == "success" for r in simulator_runs), [
            (r["dag_run_id"], r["state"]) for r in simulator_runs
        ]

        # The continuous simulator ran at least three times back to back (each the moment the last ended).
        chain = _longest_back_to_back(simulator_runs)
        assert chain >= 3, f"back-to-back simulator runs: {chain}"

        # The Market pipeline page says the same.
        producer = api.get("/market-pipeline/api/producer?limit=100")
        assert producer["error"] is None and producer["undelivered_total"] == 0, producer
        assert {r["run_id"] for r in producer["runs"]} >= {r["dag_run_id"] for r in simulator_runs[-10:]}
        lag = api.get("/market-pipeline/api/lag")
        assert lag["error"] is None and lag["total_messages"] == in_topic, lag
        mark("books balanced")

        # Ctrl-C in the second `make up`'s terminal stops Airflow, not the services it found running.
        airflow_pids = stack.component_pids()
        os.killpg(second.pid, signal.SIGINT)
        second.wait(timeout=180)
        assert "stopping what this `make up` started" in stack.log("second-up")
        assert not [pid for pid in airflow_pids.values() if alive(pid)], "Ctrl-C left Airflow running"
        assert stack.service_pids() == service_pids and all(alive(pid) for pid in service_pids.values())
    finally:
        stack.make("stop")
        with contextlib.suppress(Exception):
            second.wait(timeout=120)
    assert not pids_with_argument(str(stack.state_dir)), "make stop left processes of the stack"
    mark("done")


def _succeeded(api: AirflowClient, dag_id: str, start: datetime) -> dict:
    return next(r for r in _by_interval(api, dag_id)[start] if r["state"] == "success")


def _settled_intervals(api: AirflowClient) -> list[datetime] | None:
    """Three consecutive intervals whose scheduled ingest and catalog runs all finished, one succeeded,
    and that hold data (settled: no scheduled run of them can start again)."""
    ingest, catalog = _by_interval(api, INGEST), _by_interval(api, CATALOG)

    def done(runs: dict, s: datetime) -> bool:
        return any(r["state"] == "success" for r in runs.get(s, ())) and all(
            r["state"] in ("success", "failed") for r in runs.get(s, ())
        )

    starts = sorted(s for s in ingest if done(ingest, s) and done(catalog, s))
    for i in range(len(starts) - 2):
        window = starts[i : i + 3]
        if all(b - a == INTERVAL for a, b in itertools.pairwise(window)):
            rows = [_xcom(api, INGEST, _succeeded(api, INGEST, s)["dag_run_id"], "seal_window") for s in window]
            if all(rows) and sum(r["rows_out"] for r in rows) > 0:
                return window
    return None


def _longest_back_to_back(runs: list[dict], gap_s: float = 45) -> int:
    """The most simulator runs in a row, each starting within `gap_s` of the previous one's end."""
    ordered = sorted(runs, key=lambda r: r["start_date"])
    best = current = 1
    for previous, run in itertools.pairwise(ordered):
        gap = datetime.fromisoformat(run["start_date"]) - datetime.fromisoformat(previous["end_date"])
        current = current + 1 if gap.total_seconds() <= gap_s else 1
        best = max(best, current)
    return best if ordered else 0


def test_pools_are_created_then_updated_in_place(airflow_stack) -> None:
    """A restart re-applies the pools: an existing pool is updated (Airflow 3.3 wants include_deferred)."""
    api = airflow_stack.client
    name = f"pool_{uuid.uuid4().hex[:8]}"
    api.ensure_pool(name, 2, "first")
    api.ensure_pool(name, 3, "second")
    pool = api.get(f"/api/v2/pools/{name}")
    assert (pool["slots"], pool["description"]) == (3, "second")
