"""The whole pipeline in process: setup -> simulator -> ingest every window it covered -> catalog.

Every step is a real `dag.test()` against the real broker and the local AWS endpoint, with 1-minute
intervals so the windows close quickly. Then the catalog's checks are shown to really fail on a
corrupted partition.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from tests.support import load_dag, use_pipeline_names, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

INTERVAL = timedelta(minutes=1)
GRACE = timedelta(seconds=5)


def _xcom(dr, task_id: str):
    ti = next(ti for ti in dr.get_task_instances() if ti.task_id == task_id)
    return ti.xcom_pull(task_ids=task_id)


def _states(dr) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dr.get_task_instances()}


def _floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@pytest.fixture(scope="module")
def pipeline(airflow_db, kafka_bootstrap, aws_endpoint):
    """Run the pipeline once for the module; yields what it produced and wrote."""
    monkeypatch = pytest.MonkeyPatch()
    names = use_pipeline_names(monkeypatch, prefix="pipe", PIPELINE_INTERVAL_MINUTES="1")
    try:
        setup = load_dag("stock_market_setup").test()
        assert setup.state == "success", _states(setup)

        started = datetime.now(UTC)
        sim = load_dag("stock_market_simulator").test(
            run_conf={"rate": 150, "duration_s": 12, "seed": 11, "universe": "AAPL,MSFT,NVDA,JPM,XOM"}
        )
        finished = datetime.now(UTC)
        assert sim.state == "success", _states(sim)
        produced = _xcom(sim, "simulate")
        assert produced["delivered"] > 500 and produced["failed"] == 0, produced

        ends = []
        end = _floor(started) + INTERVAL
        while end <= _floor(finished) + INTERVAL:
            ends.append(end)
            end += INTERVAL
        # Windows are owned by broker append time: wait (bounded) until the last one has closed.
        wait_for(lambda: datetime.now(UTC) >= ends[-1] + GRACE, timeout=120, what="the last window to close")

        ingest_dag = load_dag("stock_market_ingest")
        ingested = []
        for end in ends:
            run = ingest_dag.test(logical_date=end, run_conf={"grace_seconds": 5})
            assert run.state == "success", (end, _states(run))
            ingested.append(_xcom(run, "seal_window"))

        catalog_dag = load_dag("stock_market_catalog")
        reports = []
        for end in ends:
            run = catalog_dag.test(logical_date=end)
            assert run.state == "success", (end, _states(run))
            reports.append(_xcom(run, "write_validation_report"))
        yield {"names": names, "produced": produced, "ends": ends, "ingested": ingested, "reports": reports}
    finally:
        monkeypatch.undo()


def test_every_acknowledged_tick_is_one_row_in_athena(pipeline, boto_client):
    reports = pipeline["reports"]
    assert all(r["status"] == "passed" for r in reports), reports
    assert sum(r["athena_rows"] for r in reports) == pipeline["produced"]["delivered"]
    assert sum(r["manifest_rows"] for r in reports) == pipeline["produced"]["delivered"]

    # And independently of the reports: one Athena query over the whole table.
    names = pipeline["names"]
    athena = boto_client("athena")
    qid = athena.start_query_execution(
        QueryString=f"SELECT count(*), count(DISTINCT kafka_partition * 1000000000 + kafka_offset) "
        f"FROM {names['PIPELINE_GLUE_DATABASE']}.ticks",
        WorkGroup=names["PIPELINE_ATHENA_WORKGROUP"],
    )["QueryExecutionId"]
    wait_for(
        lambda: (
            athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
            in ("SUCCEEDED", "FAILED")
        ),
        timeout=60,
        what="the Athena count",
    )
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    total, distinct = (int(cell["VarCharValue"]) for cell in rows[1]["Data"])
    assert total == distinct == pipeline["produced"]["delivered"]


def test_reports_and_bars_are_in_s3(pipeline, boto_client):
    s3 = boto_client("s3")
    bucket = pipeline["names"]["PIPELINE_BUCKET"]
    reports = s3.list_objects_v2(Bucket=bucket, Prefix="_reports/ticks/").get("Contents", [])
    assert len(reports) == len(pipeline["ends"])
    bars = s3.list_objects_v2(Bucket=bucket, Prefix="curated/bars_1m/").get("Contents", [])
    assert bars, "the curated bars table has no objects"
    checks = {c["name"] for r in pipeline["reports"] for c in r["checks"]}
    assert "bars_match_pandas" in checks


def _busiest_window(pipeline) -> tuple[datetime, dict]:
    index = max(range(len(pipeline["reports"])), key=lambda i: pipeline["reports"][i]["manifest_rows"])
    return pipeline["ends"][index], pipeline["reports"][index]


def _first_data_object(s3, bucket: str, end: datetime) -> str:
    manifest_key = f"_manifests/ticks/{end.strftime('%Y-%m-%dT%H:%M:%SZ')}.json"
    import json

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    return next(o["key"] for o in manifest["objects"] if o["kind"] == "data")


def test_a_duplicated_object_fails_the_catalog_run(pipeline, boto_client):
    s3 = boto_client("s3")
    bucket = pipeline["names"]["PIPELINE_BUCKET"]
    end, _ = _busiest_window(pipeline)
    key = _first_data_object(s3, bucket, end)
    copy_key = key.replace(".parquet", "-copy.parquet")
    s3.copy_object(Bucket=bucket, Key=copy_key, CopySource={"Bucket": bucket, "Key": key})
    try:
        run = load_dag("stock_market_catalog").test(logical_date=end)
        states = _states(run)
        assert run.state == "failed", states
        assert states["check_no_duplicate_offsets"] == "failed"
        assert states["check_row_count_matches_manifests"] == "failed"
        report = _report(s3, bucket, end)
        failed = {c["name"]: c for c in report["checks"] if not c["passed"]}
        assert failed["row_count_matches_manifests"]["actual"] > failed["row_count_matches_manifests"]["expected"]
        assert failed["no_duplicate_offsets"]["actual"] > 0
    finally:
        s3.delete_object(Bucket=bucket, Key=copy_key)


def test_a_crossed_quote_fails_the_catalog_run(pipeline, boto_client):
    s3 = boto_client("s3")
    bucket = pipeline["names"]["PIPELINE_BUCKET"]
    end, _ = _busiest_window(pipeline)
    key = _first_data_object(s3, bucket, end)
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    rows = table.to_pylist()
    rows[0]["bid"] = rows[0]["ask"] + 1.0  # bid above ask in an otherwise valid object
    corrupted = io.BytesIO()
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), corrupted)
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=corrupted.getvalue())
    try:
        run = load_dag("stock_market_catalog").test(logical_date=end)
        states = _states(run)
        assert run.state == "failed", states
        assert states["check_bid_not_above_ask"] == "failed"
        assert states["check_row_count_matches_manifests"] == "success"
        failed = {c["name"]: c for c in _report(s3, bucket, end)["checks"] if not c["passed"]}
        assert failed["bid_not_above_ask"]["actual"] == 1
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=original)
    # Restored: the same interval validates again.
    assert load_dag("stock_market_catalog").test(logical_date=end).state == "success"


def _report(s3, bucket: str, end: datetime) -> dict:
    import json

    key = f"_reports/ticks/{end.strftime('%Y-%m-%dT%H:%M:%SZ')}.json"
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
