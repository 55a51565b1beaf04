"""The Airflow UI in a real browser: log in, see the pipeline DAGs, trigger the simulator through its
trigger form with non-default Params, watch the run succeed, and read the Market pipeline page.

Why a browser: the page is an Airflow plugin embedded in the UI's navigation, behind Airflow's login,
drawn by JavaScript; only a browser proves that a person actually sees the lag table and the chart.
Headless Debian Chromium via Playwright (never a downloaded browser: this must work offline).
Every wait is on a condition (Playwright's expect/wait_for, REST polling), never a bare sleep.
Screenshots land in test-artifacts/ (gitignored).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from market_pipeline import layout
from market_pipeline.manifest import Manifest, ObjectEntry, PartitionSummary, write_manifest
from market_pipeline.settings import PipelineSettings, load_settings
from market_pipeline.setup.aws_resources import ensure_glue_database, ensure_workgroup
from market_pipeline.setup.topic import ensure_topic, pipeline_topic_spec
from tests.support import ROOT, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium phones home, and this closed network refuses it.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PIPELINE_DAGS = ("stock_market_setup", "stock_market_simulator", "stock_market_ingest", "stock_market_catalog")
SIMULATOR = "stock_market_simulator"
# Non-default Params for the trigger form (defaults: rate 1000, duration_s 300, universe default, seed 0).
SIM_PARAMS = {"rate": 50, "duration_s": 15, "universe": "AAPL,MSFT,NVDA", "seed": 7}
# Symbols only this test writes bars for, so the chart does not depend on what other tests produced.
CHART_SYMBOLS = ("ZUIA", "ZUIB")
# A symbol with only two bars: the chart's time axis must still label each minute once.
FEW_BARS_SYMBOL = "FEWB"
TIMEOUT_MS = 30_000


def shot(page: Any, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"ui-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/ensure_chromium.sh (or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def settings(airflow_stack: Any) -> PipelineSettings:
    """The pipeline names the running stack uses (its PIPELINE_* environment)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in airflow_stack.env.items():
            if key.startswith("PIPELINE_"):
                mp.setenv(key, value)
        return load_settings()


@pytest.fixture(scope="module")
def session_state(browser: Any, airflow_stack: Any) -> dict[str, Any]:
    """Log in once through the real login form; later pages reuse the session cookie."""
    from playwright.sync_api import expect

    cfg = airflow_stack.config
    context = browser.new_context(base_url=cfg.airflow_url, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    page.fill("input[name=username]", cfg.admin_user)
    page.fill("input[name=password]", cfg.admin_password)
    shot(page, "01-login")
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/auth/login"), timeout=TIMEOUT_MS)
    expect(page.get_by_role("link", name="Market pipeline")).to_be_visible()  # our nav entry
    state = context.storage_state()
    assert any(c["name"] == "_token" for c in state["cookies"]), "no Airflow session cookie after login"
    context.close()
    return state


@pytest.fixture
def page(browser: Any, airflow_stack: Any, session_state: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(
        base_url=airflow_stack.config.airflow_url, viewport={"width": 1400, "height": 1000}, storage_state=session_state
    )
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        context.close()


def present_dags(airflow_stack: Any) -> set[str]:
    """Pipeline DAGs the DAG processor has parsed (some may still be written by other engineers)."""
    api = airflow_stack.client
    files = {d for d in PIPELINE_DAGS if (ROOT / "dags" / f"{d}.py").exists()}
    wait_for(
        lambda: files <= api.dag_ids(), timeout=240, what=f"the DAG processor to parse {sorted(files)}", interval=2
    )
    return files


# ---------------------------------------------------------------------------------------------------
# Login and the DAG list
# ---------------------------------------------------------------------------------------------------


def test_login_and_the_pipeline_dags_are_listed(page: Any, airflow_stack: Any) -> None:
    from playwright.sync_api import expect

    dags = present_dags(airflow_stack)
    assert {"stock_market_setup", SIMULATOR} <= dags
    page.goto("/dags")
    for dag_id in sorted(dags):
        expect(page.get_by_role("link", name=dag_id, exact=True).first).to_be_visible()
    shot(page, "02-dags")


def test_the_page_requires_the_airflow_login(airflow_stack: Any, browser: Any) -> None:
    """Without a session: the page sends the browser to the login, the API answers 401, no data."""
    base = airflow_stack.config.airflow_url
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"{base}/market-pipeline/api/lag", timeout=10)
    assert denied.value.code == 401
    context = browser.new_context(base_url=base)
    try:
        anonymous = context.new_page()
        anonymous.goto("/market-pipeline/")
        assert "/auth/login" in anonymous.url
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------------
# Trigger the simulator through the form and watch the run
# ---------------------------------------------------------------------------------------------------


def _runs(api: Any, dag_id: str) -> list[dict[str, Any]]:
    return api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=-run_after")["dag_runs"]


def _remove_run(api: Any, dag_id: str, run_id: str, state: str) -> None:
    """Drop a run: a running one is marked failed first (that stops its task), as only finished or
    queued runs can be deleted. Best effort: the next poll retries what did not work."""
    url = f"{api.base_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}"
    headers = {"Authorization": f"Bearer {api.token()}", "Content-Type": "application/json"}
    requests = []
    if state == "running":
        requests.append(urllib.request.Request(url, data=b'{"state": "failed"}', headers=headers, method="PATCH"))
    requests.append(urllib.request.Request(url, headers=headers, method="DELETE"))
    for request in requests:
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=30).close()


def _stop_simulator(api: Any, keep: str | None) -> None:
    """Pause the continuous simulator and drop runs it queued after ours: later tests start it afresh."""
    api.patch(f"/api/v2/dags/{SIMULATOR}", {"is_paused": True})
    for run in _runs(api, SIMULATOR):
        if run["dag_run_id"] != keep and run["state"] in ("queued", "running"):
            _remove_run(api, SIMULATOR, run["dag_run_id"], run["state"])


def test_trigger_the_simulator_with_params_and_watch_it_succeed(page: Any, airflow_stack: Any) -> None:
    from playwright.sync_api import expect

    if not (ROOT / "dags" / f"{SIMULATOR}.py").exists():
        pytest.skip("dags/stock_market_simulator.py is not written yet")
    present_dags(airflow_stack)
    api = airflow_stack.client
    # The simulator is @continuous: unpaused, the scheduler creates a run with the default Params (300 s)
    # at once, dated before ours, and max_active_runs=1 would start it first. So the form triggers while
    # the DAG is paused (our run waits, queued), and after unpausing, the scheduler's own runs are
    # removed until ours runs.
    _stop_simulator(api, keep=None)
    before = {r["dag_run_id"] for r in _runs(api, SIMULATOR)}

    page.goto(f"/dags/{SIMULATOR}")
    page.get_by_test_id("trigger-dag-button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(f"Trigger Dag - {SIMULATOR}")).to_be_visible()
    unpause = dialog.get_by_role("checkbox", name=re.compile(f"Unpause {SIMULATOR}"))
    if unpause.count() and unpause.is_checked():
        dialog.get_by_text(f"Unpause {SIMULATOR} on trigger").click()
        expect(unpause).not_to_be_checked()
    for name in ("rate", "duration_s", "seed"):
        field = dialog.get_by_label(re.compile(rf"^{name}\b"))
        field.fill(str(SIM_PARAMS[name]))
        field.press("Tab")
        expect(field).to_have_value(str(SIM_PARAMS[name]))
    universe = dialog.locator("input[name=element_universe]")
    universe.fill(SIM_PARAMS["universe"])
    universe.press("Tab")
    shot(page, "03-trigger-form")
    dialog.get_by_test_id("trigger-dag-submit").click()
    expect(dialog).to_be_hidden()

    new_runs: list[dict[str, Any]] = []

    def our_run() -> bool:
        new_runs[:] = [r for r in _runs(api, SIMULATOR) if r["dag_run_id"] not in before and r["run_type"] == "manual"]
        return bool(new_runs)

    wait_for(our_run, timeout=60, what="the triggered simulator run to appear", interval=1)
    run = new_runs[0]
    run_id = run["dag_run_id"]
    try:
        assert {k: run["conf"].get(k) for k in SIM_PARAMS} == SIM_PARAMS, run["conf"]  # the form's values
        api.unpause(SIMULATOR)

        def ours_started() -> bool:
            states = {r["dag_run_id"]: r["state"] for r in _runs(api, SIMULATOR)}
            for other, other_state in states.items():
                if other != run_id and other_state in ("queued", "running"):
                    _remove_run(api, SIMULATOR, other, other_state)
            return states.get(run_id) != "queued"

        wait_for(ours_started, timeout=120, what=f"simulator run {run_id} to start", interval=0.5)
        state = api.wait_for_run(SIMULATOR, run_id, timeout=300)
    finally:
        _stop_simulator(api, keep=run_id)
    assert state == "success", f"simulator run {run_id} ended {state}"

    page.goto(f"/dags/{SIMULATOR}/runs/{run_id}")
    expect(page.get_by_text(run_id).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^success$", re.IGNORECASE)).first).to_be_visible()
    shot(page, "04-simulator-run-success")
    xcom = api.get(f"/api/v2/dags/{SIMULATOR}/dagRuns/{run_id}/taskInstances/simulate/xcomEntries/return_value")
    assert xcom["value"]["delivered"] > 0 and xcom["value"]["failed"] == 0, xcom["value"]


# ---------------------------------------------------------------------------------------------------
# The Market pipeline page
# ---------------------------------------------------------------------------------------------------


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


# The curated table as the catalog DAG creates it (include/market_pipeline/catalog/sql/create_bars_table.sql).
BARS_COLUMNS = [
    ("symbol", "string", pa.string()),
    ("minute", "timestamp", pa.timestamp("us", tz="UTC")),
    ("open", "double", pa.float64()),
    ("high", "double", pa.float64()),
    ("low", "double", pa.float64()),
    ("close", "double", pa.float64()),
    ("volume", "bigint", pa.int64()),
    ("vwap", "double", pa.float64()),
    ("trade_count", "bigint", pa.int64()),
    ("first_trade_at", "timestamp", pa.timestamp("us", tz="UTC")),
    ("last_trade_at", "timestamp", pa.timestamp("us", tz="UTC")),
]


def seed_lake(settings: PipelineSettings, boto_client: Any, kafka_bootstrap: str) -> datetime:
    """What the page needs whichever pipeline DAGs ran: topic, bucket, catalog, bars, manifests, reports.

    Everything is idempotent and kept apart from real data: bars for symbols nobody else trades in a
    partition no catalog run owns (ingest_window='uitest'), manifests and reports dated 2020, so the
    catalog DAG's reconciliation of recent intervals never sees them.
    """
    from confluent_kafka.admin import AdminClient

    ensure_topic(AdminClient({"bootstrap.servers": kafka_bootstrap}), pipeline_topic_spec(settings))
    s3, glue, athena = boto_client("s3"), boto_client("glue"), boto_client("athena")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=settings.bucket)
    ensure_glue_database(glue, settings)
    ensure_workgroup(athena, settings)
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_table(
            DatabaseName=settings.glue_database,
            TableInput={
                "Name": settings.bars_table,
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": t} for n, t, _ in BARS_COLUMNS],
                    "Location": f"s3://{settings.bucket}/{layout.curated_prefix(settings.bars_table)}",
                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    "SerdeInfo": {
                        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    },
                },
                "PartitionKeys": [{"Name": k, "Type": "string"} for k in ("dt", "hour", "ingest_window")],
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet"},
            },
        )
    # 45 one-minute bars per symbol ending at the last full minute.
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    minutes = [end - timedelta(minutes=44 - i) for i in range(45)]
    rows: dict[str, list[Any]] = {n: [] for n, _, _ in BARS_COLUMNS}
    for k, symbol in enumerate((*CHART_SYMBOLS, FEW_BARS_SYMBOL)):
        for i, minute in enumerate(minutes):
            if symbol == FEW_BARS_SYMBOL and i < len(minutes) - 2:
                continue
            close = 100.0 * (k + 1) + 3 * ((i % 12) - 6) / 6 + i * 0.05
            values = (
                symbol,
                minute,
                close - 0.1,
                close + 0.4,
                close - 0.5,
                close,
                1000 + 37 * (i % 9),
                close,
                12 + i % 5,
            )
            for (name, _, _), value in zip(
                BARS_COLUMNS, (*values, minute, minute + timedelta(seconds=59)), strict=True
            ):
                rows[name].append(value)
    table = pa.table({n: pa.array(rows[n], t) for n, _, t in BARS_COLUMNS})
    dt, hour = minutes[0].strftime("%Y-%m-%d"), minutes[0].strftime("%H")
    location = f"{layout.curated_prefix(settings.bars_table)}dt={dt}/hour={hour}/ingest_window=uitest/"
    s3.put_object(Bucket=settings.bucket, Key=f"{location}bars.parquet", Body=_parquet(table))
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_partition(
            DatabaseName=settings.glue_database,
            TableName=settings.bars_table,
            PartitionInput={
                "Values": [dt, hour, "uitest"],
                "StorageDescriptor": {"Location": f"s3://{settings.bucket}/{location}"},
            },
        )

    base = datetime(2020, 1, 6, 14, 0, tzinfo=UTC)
    for i, (rows_out, dlq) in enumerate(((1200, 0), (1350, 4), (1280, 0))):
        window_end = base + timedelta(minutes=5 * (i + 1))
        key = f"raw/{settings.table}/dt=2020-01-06/hour=14/{settings.topic}+0+{i * 2000}+{i * 2000 + rows_out - 1}.parquet"
        objects = [
            ObjectEntry(
                key, "data", 0, i * 2000, i * 2000 + rows_out - 1, rows_out, 61_000 + rows_out * 40, "2020-01-06", 14
            )
        ]
        if dlq:
            objects.append(
                ObjectEntry(
                    f"dlq/{settings.table}/dt=2020-01-06/x+0+1+4.parquet", "dlq", 0, 1, 4, dlq, 900, "2020-01-06"
                )
            )
        write_manifest(
            s3,
            settings.bucket,
            Manifest(
                table=settings.table,
                topic=settings.topic,
                window_start=window_end - timedelta(minutes=5),
                window_end=window_end,
                schema_version=1,
                partitions=(PartitionSummary(0, i * 2000, i * 2000 + rows_out + dlq, rows_out + dlq, rows_out, dlq),),
                objects=tuple(objects),
            ),
        )
    for end_text, athena_rows, manifest_rows in (
        ("2020-01-06T15:00:00Z", 3830, 3830),
        ("2020-01-06T16:00:00Z", 3700, 3830),
    ):
        passed = athena_rows == manifest_rows
        report = {
            "report_version": 1,
            "table": settings.table,
            "interval_start": end_text.replace("T15", "T14").replace("T16", "T15"),
            "interval_end": end_text,
            "status": "passed" if passed else "failed",
            "checks": [
                {
                    "name": "row_count_matches_manifests",
                    "passed": passed,
                    "expected": manifest_rows,
                    "actual": athena_rows,
                    "message": "rows in Athena vs rows the manifests say were written",
                },
                {"name": "no_duplicate_offsets", "passed": True, "expected": 0, "actual": 0, "message": "duplicates"},
            ],
            "athena_rows": athena_rows,
            "manifest_rows": manifest_rows,
            "generated_at": end_text,
        }
        s3.put_object(
            Bucket=settings.bucket,
            Key=f"{layout.report_prefix(settings.table)}{end_text}.json",
            Body=json.dumps(report).encode(),
        )
    return end


def test_market_pipeline_page_shows_lag_and_the_chart(
    page: Any, airflow_stack: Any, settings: PipelineSettings, boto_client: Any, kafka_bootstrap: str
) -> None:
    from playwright.sync_api import expect

    newest_bar = seed_lake(settings, boto_client, kafka_bootstrap)

    # Through the navigation, as a user would: the page is embedded in the Airflow UI.
    page.goto("/")
    page.get_by_role("link", name="Market pipeline").click()
    expect(page).to_have_url(re.compile(r"/plugin/market-pipeline"))
    frame = page.frame_locator("iframe").first
    expect(frame.get_by_role("heading", name="Market pipeline")).to_be_visible()

    # Lag: one row per partition with numbers, no panel error.
    lag_rows = frame.locator("#lag-table tbody tr[data-partition]")
    expect(lag_rows).to_have_count(settings.topic_partitions, timeout=60_000)
    expect(frame.locator("#panel-lag .panel-error")).to_be_hidden()
    expect(frame.locator("#lag-total")).to_have_text(re.compile(r"^[\d,]+ messages$"))
    # From the broker's offsets by timestamp, on the first poll (not estimated from the page's polls).
    expect(frame.locator("#lag-rate")).to_have_text(re.compile(r"messages/s \([\d,]+ appended in the last 60 s\)"))

    # Chart: choose our symbols in the form; one uPlot canvas per symbol, axes labelled.
    frame.locator("#chart-symbols").fill(",".join(CHART_SYMBOLS))
    frame.locator("#chart-minutes").select_option("60")
    frame.get_by_role("button", name="Show").click()
    for symbol in CHART_SYMBOLS:
        chart = frame.locator(f"#chart-{symbol}")
        expect(chart.locator("canvas")).to_be_visible(timeout=90_000)
        expect(chart).to_have_attribute("data-points", "45")
        expect(chart.locator(".u-legend")).to_contain_text("Close (USD)")
    expect(frame.locator("#bars-table tbody tr[data-symbol]")).to_have_count(len(CHART_SYMBOLS))
    expect(frame.locator("#chart-status")).to_contain_text(newest_bar.strftime("%Y-%m-%d %H:%M"))
    for symbol in CHART_SYMBOLS:
        labels = frame.locator(f"#chart-{symbol}").get_attribute("data-x-labels").split("|")
        assert len(labels) >= 3 and len(labels) == len(set(labels)), labels

    # Two bars: each minute labelled once (uPlot ticked every few seconds and repeated HH:MM).
    frame.locator("#chart-symbols").fill(FEW_BARS_SYMBOL)
    frame.get_by_role("button", name="Show").click()
    few = frame.locator(f"#chart-{FEW_BARS_SYMBOL}")
    expect(few).to_have_attribute("data-points", "2", timeout=90_000)
    labels = few.get_attribute("data-x-labels").split("|")
    assert labels and len(labels) == len(set(labels)), f"repeated time labels: {labels}"
    frame.locator("#chart-symbols").fill(",".join(CHART_SYMBOLS))
    frame.get_by_role("button", name="Show").click()
    expect(frame.locator(f"#chart-{CHART_SYMBOLS[0]}")).to_have_attribute("data-points", "45", timeout=90_000)

    # Lake panels: the seeded windows and reports, the failed report highlighted.
    expect(frame.locator("#windows-table tbody tr[data-window-end]").first).to_be_visible(timeout=60_000)
    expect(frame.locator("#windows-table tbody tr[data-window-end='2020-01-06T14:10:00Z']")).to_have_class(
        re.compile(r"warn")
    )
    failed_report = frame.locator("#reports-table tbody tr[data-status='failed']").first
    expect(failed_report).to_have_class(re.compile(r"bad"))
    expect(failed_report).to_contain_text("row_count_matches_manifests")
    expect(frame.locator("#fresh-status")).to_have_class(re.compile(r"badge (ok|warn|bad)"), timeout=60_000)
    shot(page, "05-market-page-in-airflow", full_page=False)

    # The bare page shows every panel at full height: the screenshot a reviewer reads.
    page.goto("/market-pipeline/")
    expect(page.locator("#chart-symbols")).to_be_visible()
    page.locator("#chart-symbols").fill(",".join(CHART_SYMBOLS))
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f"#chart-{CHART_SYMBOLS[-1]} canvas")).to_be_visible(timeout=90_000)
    expect(page.locator("#lag-table tbody tr[data-partition]")).to_have_count(settings.topic_partitions, timeout=60_000)
    shot(page, "06-market-page")
