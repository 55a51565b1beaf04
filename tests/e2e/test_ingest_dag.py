"""The ingest DAG run by Airflow (dag.test) against the real broker and the S3 endpoint.

Broker timestamps are LogAppendTime (wall clock at append), so a window can only be ingested after it
has really passed. To keep this fast the test sets PIPELINE_INTERVAL_MINUTES=1 (the same setting the
catalog DAG follows): it produces into the current minute, waits for that minute to end (< 60 s), then
closes the window with one later message per partition instead of waiting for the grace period.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from confluent_kafka.admin import NewTopic

from market_pipeline.layout import manifest_key, part_manifest_prefix
from market_pipeline.manifest import read_manifest
from tests.support import load_dag, use_pipeline_names, wait_for
from tests.ticks import encode, make_ticks, ms_to_dt, produce

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_default_schedule_is_five_minute_data_intervals(monkeypatch):
    monkeypatch.delenv("PIPELINE_INTERVAL_MINUTES", raising=False)
    dag = load_dag("stock_market_ingest")
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert dag.timetable.expression == "*/5 * * * *"
    assert dag.catchup is True and dag.max_active_runs == 2
    assert set(dag.params) == {"grace_seconds", "max_bad_share", "chunk_size", "max_ingest_tasks"}
    assert all(dag.params.get_param(name).description for name in dag.params)
    assert [t.task_id for t in dag.topological_sort()] == ["plan_window", "ingest_partition", "seal_window"]
    task = dag.get_task("seal_window")
    assert [o.uri for o in task.outlets] == [o.name for o in task.outlets]
    assert task.outlets[0].uri.startswith("s3://stock-market-lake/raw/ticks")


def test_ingest_dag_run_writes_the_window_and_emits_the_asset_event(
    airflow_db, kafka_bootstrap, kafka_admin, boto_client, monkeypatch
):
    names = use_pipeline_names(monkeypatch, prefix="ingest_e2e", PIPELINE_INTERVAL_MINUTES="1")
    topic, bucket = names["PIPELINE_TOPIC"], names["PIPELINE_BUCKET"]
    kafka_admin.create_topics([NewTopic(topic, 3, 1, config={"message.timestamp.type": "LogAppendTime"})])[
        topic
    ].result(timeout=30)
    wait_for(lambda: len(kafka_admin.list_topics(topic, timeout=5).topics[topic].partitions) == 3, 30, "topic")
    s3 = boto_client("s3")
    s3.create_bucket(Bucket=bucket)
    dag = load_dag("stock_market_ingest")

    # Produce into one minute, not too close to its end.
    if datetime.now(UTC).second >= 55:
        wait_for(lambda: datetime.now(UTC).second < 55, 10, "the next minute")
    ticks = make_ticks(240, datetime(2026, 11, 25, 9, 59, 59, tzinfo=UTC), step=timedelta(milliseconds=10))
    delivered = produce(kafka_bootstrap, topic, [(t["symbol"].encode(), encode(t), i % 3) for i, t in enumerate(ticks)])
    first = ms_to_dt(min(d.timestamp_ms for d in delivered))
    window_start = first.replace(second=0, microsecond=0)
    window_end = window_start + timedelta(minutes=1)
    assert max(d.timestamp_ms for d in delivered) < window_end.timestamp() * 1000

    wait_for(lambda: datetime.now(UTC) > window_end, 70, "the window to pass", interval=0.5)
    produce(kafka_bootstrap, topic, [(b"AAPL", encode(ticks[0]), p) for p in range(3)])  # closes it

    began = time.monotonic()
    dr = dag.test(logical_date=window_end)
    assert dr.state == "success", [(ti.task_id, ti.state) for ti in dr.get_task_instances()]
    # dag.test(logical_date=X) infers the manual data interval: the period that ENDS at X.
    assert (dr.data_interval_start, dr.data_interval_end) == (window_start, window_end)
    assert time.monotonic() - began < 120

    tis = {(ti.task_id, ti.map_index): ti for ti in dr.get_task_instances()}
    assert sorted(tis) == [
        ("ingest_partition", 0),
        ("ingest_partition", 1),
        ("ingest_partition", 2),
        ("plan_window", -1),
        ("seal_window", -1),
    ]
    assert all(ti.state == "success" for ti in tis.values())
    assert [tis[("ingest_partition", i)].rendered_map_index for i in range(3)] == ["p0", "p1", "p2"]
    summary = tis[("seal_window", -1)].xcom_pull(task_ids="seal_window")
    assert summary["messages_in"] == summary["rows_out"] == 240 and summary["dlq_count"] == 0
    assert summary["partitions"] == 3
    assert summary["committed"] == {str(p): 80 for p in range(3)}

    manifest = read_manifest(s3, bucket, manifest_key("ticks", window_end))
    assert manifest is not None and manifest.rows_out == 240
    parts = s3.list_objects_v2(Bucket=bucket, Prefix=part_manifest_prefix("ticks", window_end))["Contents"]
    assert len(parts) == 3, "one part manifest per partition"
    assert {(o.hour, o.partition) for o in manifest.data_objects} == {(h, p) for h in (9, 10) for p in range(3)}
    rows = []
    for obj in manifest.data_objects:
        body = s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read()
        rows += pq.read_table(io.BytesIO(body)).select(["kafka_partition", "kafka_offset"]).to_pylist()
    assert sorted((r["kafka_partition"], r["kafka_offset"]) for r in rows) == sorted(
        (d.partition, d.offset) for d in delivered
    )

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.settings import Session
    from sqlalchemy import select

    with Session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(
                AssetModel.name == dag.get_task("seal_window").outlets[0].name, AssetEvent.source_run_id == dr.run_id
            )
        ).all()
    assert len(events) == 1
    assert events[0].extra["rows_out"] == 240 and events[0].extra["manifest_key"] == manifest.key
