"""The Market pipeline page's API against the real local stack: Kafka lag, manifests, reports, Athena.

Why against real services: lag comes from the broker's watermarks and the group's committed offsets,
windows from manifests the pipeline's own writer puts in S3, freshness and bars from SQL the local
Athena really runs over Parquet in S3 registered in Glue; fakes would only prove the fakes.
The app is built like the plugin builds it (``create_app`` with clients from the connections) from the same env-driven settings the plugin uses, and
reaches the services through the Airflow connections (AIRFLOW_CONN_KAFKA_DEFAULT / _AWS_DEFAULT).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from market_pipeline import layout
from market_pipeline.manifest import Manifest, ObjectEntry, PartitionSummary, write_manifest
from market_pipeline.schema import RAW_TABLE_SCHEMA
from market_pipeline.settings import PipelineSettings, load_settings
from market_pipeline.setup.aws_resources import ensure_workgroup
from tests.support import market_ui_app, wait_for

pytestmark = pytest.mark.integration

GROUP_PREFIX = "market_ui_test"


@pytest.fixture
def pipeline_env(
    monkeypatch: pytest.MonkeyPatch, kafka_topic: Callable[..., str], s3_bucket: str, boto_client: Any
) -> PipelineSettings:
    """Settings pointing at a fresh topic, bucket, consumer group, Glue database and workgroup."""
    suffix = uuid.uuid4().hex[:8]
    env = {
        "PIPELINE_TOPIC": kafka_topic(partitions=3, prefix="mui"),
        "PIPELINE_BUCKET": s3_bucket,
        "PIPELINE_CONSUMER_GROUP": f"{GROUP_PREFIX}_{suffix}",
        "PIPELINE_GLUE_DATABASE": f"mui_db_{suffix}",
        "PIPELINE_ATHENA_WORKGROUP": f"mui_wg_{suffix}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    ensure_workgroup(boto_client("athena"), settings)
    boto_client("glue").create_database(DatabaseInput={"Name": settings.glue_database})
    return settings


@pytest.fixture
def client(pipeline_env: PipelineSettings) -> Iterator[TestClient]:
    with TestClient(market_ui_app(pipeline_env)) as test_client:
        yield test_client


# ---------------------------------------------------------------------------------------------------
# Kafka lag and throughput
# ---------------------------------------------------------------------------------------------------


def _produce(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for partition, count in per_partition.items():
        for i in range(count):
            producer.produce(topic, value=json.dumps({"i": i}).encode(), key=b"K", partition=partition)
    assert producer.flush(30) == 0


def _commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit offsets for the group the way the ingest DAG does: explicit, synchronous."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    wanted = [TopicPartition(topic, p, o) for p, o in offsets.items()]
    try:
        # A fresh broker creates __consumer_offsets on first use: NOT_COORDINATOR until it is ready.
        wait_for(lambda: consumer.commit(offsets=wanted, asynchronous=False), 60, f"offset commit for {group}")
    finally:
        consumer.close()


def test_lag_per_partition_after_produce_and_partial_commit(
    client: TestClient, pipeline_env: PipelineSettings, kafka_bootstrap: str
) -> None:
    topic, group = pipeline_env.topic, pipeline_env.consumer_group
    _produce(kafka_bootstrap, topic, {0: 10, 1: 7, 2: 0})
    _commit(kafka_bootstrap, group, topic, {0: 4, 2: 0})

    first = client.get("/api/lag")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["error"] is None
    assert body["topic"] == topic and body["group"] == group
    by_partition = {p["partition"]: p for p in body["partitions"]}
    assert set(by_partition) == {0, 1, 2}
    assert (by_partition[0]["high"], by_partition[0]["committed"], by_partition[0]["lag"]) == (10, 4, 6)
    # No commit on partition 1: everything retained is behind.
    assert (by_partition[1]["high"], by_partition[1]["committed"], by_partition[1]["lag"]) == (7, None, 7)
    assert (by_partition[2]["high"], by_partition[2]["committed"], by_partition[2]["lag"]) == (0, 0, 0)
    assert body["total_lag"] == 13
    assert body["total_messages"] == 17
    assert by_partition[0]["last_message_time"] is not None  # LogAppendTime of the newest message
    # From the broker, on the first poll: the 17 messages were all appended in the last minute.
    assert (body["appended_in_window"], body["throughput_window_s"]) == (17, 60)
    assert body["throughput_msgs_per_s"] == round(17 / 60, 2)

    # More traffic, then the group catches up on partition 1: the next poll sees both.
    _produce(kafka_bootstrap, topic, {1: 5})
    _commit(kafka_bootstrap, group, topic, {1: 12})
    second = client.get("/api/lag").json()
    by_partition = {p["partition"]: p for p in second["partitions"]}
    assert (by_partition[1]["high"], by_partition[1]["committed"], by_partition[1]["lag"]) == (12, 12, 0)
    assert second["total_lag"] == 6
    assert second["appended_in_window"] == 22


def test_lag_for_a_missing_topic_is_a_503_with_a_message(
    monkeypatch: pytest.MonkeyPatch, pipeline_env: PipelineSettings, kafka_bootstrap: str
) -> None:
    monkeypatch.setenv("PIPELINE_TOPIC", f"missing_{uuid.uuid4().hex[:8]}")
    with TestClient(market_ui_app(load_settings())) as test_client:
        response = test_client.get("/api/lag")
    assert response.status_code == 503
    assert "not found" in response.json()["error"]


# ---------------------------------------------------------------------------------------------------
# Manifests and validation reports in S3
# ---------------------------------------------------------------------------------------------------


def _manifest(settings: PipelineSettings, end: datetime, rows: int, dlq: int = 0, status: str = "ok") -> Manifest:
    dt, hour = end.strftime("%Y-%m-%d"), end.hour
    objects = [
        ObjectEntry(
            f"raw/{settings.table}/dt={dt}/hour={hour:02d}/x+0+1+{rows}.parquet",
            "data",
            0,
            0,
            rows - 1,
            rows,
            1000 * rows,
            dt,
            hour,
        )
    ]
    if dlq:
        objects.append(
            ObjectEntry(
                f"dlq/{settings.table}/dt={dt}/x+0+{rows}+{rows + dlq}.parquet",
                "dlq",
                0,
                rows,
                rows + dlq - 1,
                dlq,
                77,
                dt,
            )
        )
    return Manifest(
        table=settings.table,
        topic=settings.topic,
        window_start=end - timedelta(minutes=5),
        window_end=end,
        schema_version=1,
        partitions=(PartitionSummary(0, 100, 100 + rows + dlq, rows + dlq, rows, dlq),),
        objects=tuple(objects),
        status=status,
    )


def test_windows_list_the_newest_manifests_with_counts(
    client: TestClient, pipeline_env: PipelineSettings, boto_client: Any
) -> None:
    s3 = boto_client("s3")
    base = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    write_manifest(s3, pipeline_env.bucket, _manifest(pipeline_env, base + timedelta(minutes=5), 100))
    write_manifest(s3, pipeline_env.bucket, _manifest(pipeline_env, base + timedelta(minutes=10), 120, dlq=3))
    write_manifest(
        s3,
        pipeline_env.bucket,
        _manifest(pipeline_env, base + timedelta(minutes=15), 50, dlq=60, status="bad_share_exceeded"),
    )

    response = client.get("/api/windows", params={"limit": "2"})
    assert response.status_code == 200, response.text
    windows = response.json()["windows"]
    assert [w["window_end"] for w in windows] == ["2026-11-25T14:15:00Z", "2026-11-25T14:10:00Z"]
    newest, second = windows
    assert (newest["messages_in"], newest["rows_out"], newest["dlq_count"], newest["status"]) == (
        110,
        50,
        60,
        "bad_share_exceeded",
    )
    assert newest["problem"] is True
    assert (second["messages_in"], second["rows_out"], second["dlq_count"]) == (123, 120, 3)
    assert (second["data_objects"], second["dlq_objects"], second["data_bytes"], second["dlq_bytes"]) == (
        1,
        1,
        120_000,
        77,
    )
    assert second["unaccounted"] == 0

    assert len(client.get("/api/windows").json()["windows"]) == 3
    assert client.get("/api/windows", params={"limit": "0"}).status_code == 422


def test_reports_newest_first_with_failures_listed(
    client: TestClient, pipeline_env: PipelineSettings, boto_client: Any
) -> None:
    s3 = boto_client("s3")

    def put(end: str, status: str, athena_rows: int, manifest_rows: int) -> None:
        passed = athena_rows == manifest_rows
        doc = {
            "report_version": 1,
            "table": pipeline_env.table,
            "interval_start": end.replace("T15", "T14"),
            "interval_end": end,
            "status": status,
            "checks": [
                {
                    "name": "row_count_matches_manifests",
                    "passed": passed,
                    "expected": manifest_rows,
                    "actual": athena_rows,
                    "message": "Athena rows vs manifest rows",
                },
                {"name": "no_null_symbols", "passed": True, "expected": 0, "actual": 0, "message": "ok"},
            ],
            "athena_rows": athena_rows,
            "manifest_rows": manifest_rows,
            "generated_at": end,
        }
        s3.put_object(
            Bucket=pipeline_env.bucket, Key=f"_reports/{pipeline_env.table}/{end}.json", Body=json.dumps(doc).encode()
        )

    put("2026-11-25T15:00:00Z", "passed", 500, 500)
    put("2026-11-25T16:00:00Z", "failed", 480, 500)
    s3.put_object(
        Bucket=pipeline_env.bucket, Key=f"_reports/{pipeline_env.table}/2026-11-25T17:00:00Z.json", Body=b"{not json"
    )

    body = client.get("/api/reports").json()
    assert body["error"] is None
    reports = body["reports"]
    assert [r["status"] for r in reports] == ["unreadable", "failed", "passed"]
    failed = reports[1]
    assert failed["interval_end"] == "2026-11-25T16:00:00Z"
    assert failed["checks_failed"] == 1 and failed["checks_total"] == 2
    assert failed["failed_checks"][0] == {
        "name": "row_count_matches_manifests",
        "expected": 500,
        "actual": 480,
        "message": "Athena rows vs manifest rows",
    }
    assert body["failed"] == 2


# ---------------------------------------------------------------------------------------------------
# Athena: freshness of the raw table and one-minute bars
# ---------------------------------------------------------------------------------------------------

_GLUE_TYPES = {pa.int32(): "int", pa.int64(): "bigint", pa.float64(): "double", pa.string(): "string"}


def _glue_type(arrow_type: pa.DataType) -> str:
    return "timestamp" if pa.types.is_timestamp(arrow_type) else _GLUE_TYPES[arrow_type]


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _register(glue: Any, settings: PipelineSettings, name: str, columns: list[dict[str, str]], prefix: str) -> None:
    glue.create_table(
        DatabaseName=settings.glue_database,
        TableInput={
            "Name": name,
            "StorageDescriptor": {
                "Columns": columns,
                "Location": f"s3://{settings.bucket}/{prefix}",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
            },
            "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "string"}],
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet"},
        },
    )


def _add_partition(
    s3: Any, glue: Any, settings: PipelineSettings, name: str, prefix: str, moment: datetime, table: pa.Table
) -> None:
    dt, hour = moment.strftime("%Y-%m-%d"), moment.strftime("%H")
    location = f"{prefix}dt={dt}/hour={hour}/"
    s3.put_object(Bucket=settings.bucket, Key=f"{location}part-0.parquet", Body=_parquet(table))
    glue.create_partition(
        DatabaseName=settings.glue_database,
        TableName=name,
        PartitionInput={"Values": [dt, hour], "StorageDescriptor": {"Location": f"s3://{settings.bucket}/{location}"}},
    )


def ticks_table(times: list[datetime]) -> pa.Table:
    n = len(times)
    columns = {
        "schema_version": pa.array([1] * n, pa.int32()),
        "event_type": ["trade"] * n,
        "symbol": ["AAPL"] * n,
        "event_time": pa.array(times, pa.timestamp("us", tz="UTC")),
        "seq": pa.array(range(n), pa.int64()),
        "exchange": ["XNAS"] * n,
        "price": [100.0 + i for i in range(n)],
        "size": pa.array([100] * n, pa.int64()),
        "bid": [99.9] * n,
        "bid_size": pa.array([1] * n, pa.int64()),
        "ask": [100.1] * n,
        "ask_size": pa.array([1] * n, pa.int64()),
        "kafka_partition": pa.array([0] * n, pa.int32()),
        "kafka_offset": pa.array(range(n), pa.int64()),
        "ingested_at": pa.array(times, pa.timestamp("ms", tz="UTC")),
    }
    return pa.table(columns, schema=RAW_TABLE_SCHEMA)


def test_freshness_reports_the_newest_queryable_tick(
    client: TestClient, pipeline_env: PipelineSettings, boto_client: Any
) -> None:
    s3, glue = boto_client("s3"), boto_client("glue")
    empty = client.get("/api/freshness")
    assert empty.status_code == 503  # no table yet: the panel says so
    assert empty.json()["error"]

    columns = [{"Name": f.name, "Type": _glue_type(f.type)} for f in RAW_TABLE_SCHEMA]
    _register(glue, pipeline_env, pipeline_env.table, columns, layout.raw_prefix(pipeline_env.table))
    newest = (datetime.now(UTC) - timedelta(minutes=3)).replace(microsecond=0)
    older = newest - timedelta(hours=1)
    _add_partition(
        s3, glue, pipeline_env, pipeline_env.table, layout.raw_prefix(pipeline_env.table), older, ticks_table([older])
    )
    _add_partition(
        s3,
        glue,
        pipeline_env,
        pipeline_env.table,
        layout.raw_prefix(pipeline_env.table),
        newest,
        ticks_table([newest - timedelta(seconds=30), newest]),
    )

    # A new app: the failure above is cached for a few seconds on purpose (no query storm).
    with TestClient(market_ui_app(pipeline_env)) as fresh_client:
        response = fresh_client.get("/api/freshness")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["newest_event_time"] == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert body["status"] == "fresh"
        assert 170 <= body["age_seconds"] <= 300
        again = fresh_client.get("/api/freshness").json()  # served from the 30 s cache
        assert again["newest_event_time"] == body["newest_event_time"]
        assert again["cache_age_seconds"] >= 0


def bars_table(symbol: str, start: datetime, n: int, base: float) -> pa.Table:
    minutes = [start + timedelta(minutes=i) for i in range(n)]
    close = [base + i * 0.5 for i in range(n)]
    return pa.table(
        {
            "symbol": [symbol] * n,
            "minute": pa.array(minutes, pa.timestamp("us", tz="UTC")),
            "open": [c - 0.2 for c in close],
            "high": [c + 0.3 for c in close],
            "low": [c - 0.4 for c in close],
            "close": close,
            "volume": pa.array([1000 + i for i in range(n)], pa.int64()),
            "vwap": close,
            "trade_count": pa.array([10] * n, pa.int64()),
            "first_trade_at": pa.array([m + timedelta(seconds=1) for m in minutes], pa.timestamp("us", tz="UTC")),
            "last_trade_at": pa.array([m + timedelta(seconds=50) for m in minutes], pa.timestamp("us", tz="UTC")),
        }
    )


BARS_COLUMNS = [
    {"Name": "symbol", "Type": "string"},
    {"Name": "minute", "Type": "timestamp"},
    {"Name": "open", "Type": "double"},
    {"Name": "high", "Type": "double"},
    {"Name": "low", "Type": "double"},
    {"Name": "close", "Type": "double"},
    {"Name": "volume", "Type": "bigint"},
    {"Name": "vwap", "Type": "double"},
    {"Name": "trade_count", "Type": "bigint"},
    {"Name": "first_trade_at", "Type": "timestamp"},
    {"Name": "last_trade_at", "Type": "timestamp"},
]


def test_symbols_and_bars_from_the_curated_table(
    client: TestClient, pipeline_env: PipelineSettings, boto_client: Any
) -> None:
    s3, glue = boto_client("s3"), boto_client("glue")
    _register(glue, pipeline_env, pipeline_env.bars_table, BARS_COLUMNS, layout.curated_prefix(pipeline_env.bars_table))
    hour = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a past session: "latest" must anchor on the data
    table = pa.concat_tables([bars_table("AAPL", hour, 30, 190.0), bars_table("MSFT", hour, 20, 410.0)])
    _add_partition(
        s3, glue, pipeline_env, pipeline_env.bars_table, layout.curated_prefix(pipeline_env.bars_table), hour, table
    )
    # The next interval carried the last trade of AAPL's 15:29 minute: a partial bar the page must merge.
    late = bars_table("AAPL", hour + timedelta(minutes=29), 1, 200.0).to_pylist()[0]
    late.update(
        open=195.0,
        high=205.0,
        low=194.0,
        close=199.0,
        volume=100,
        trade_count=1,
        first_trade_at=hour + timedelta(minutes=29, seconds=55),
        last_trade_at=hour + timedelta(minutes=29, seconds=59),
    )
    partial = pa.Table.from_pylist([late], schema=table.schema)
    s3.put_object(
        Bucket=pipeline_env.bucket,
        Key=f"{layout.curated_prefix(pipeline_env.bars_table)}dt=2026-11-24/hour=15/part-1.parquet",
        Body=_parquet(partial),
    )

    symbols = client.get("/api/symbols").json()
    assert symbols["symbols"] == ["AAPL", "MSFT"]
    assert symbols["newest"]["AAPL"] == "2026-11-24T15:29:00Z"

    response = client.get("/api/bars", params={"symbols": "AAPL,MSFT", "minutes": "10"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["end"] == "2026-11-24T15:29:00Z" and body["start"] == "2026-11-24T15:19:00Z"
    aapl, msft = body["series"]["AAPL"], body["series"]["MSFT"]
    assert len(aapl["t"]) == 10  # (15:19, 15:29]
    assert aapl["t"][-1] == int(datetime(2026, 11, 24, 15, 29, tzinfo=UTC).timestamp())
    # The merged 15:29 bar: open from the earliest trade, close from the latest, volume and count summed.
    assert aapl["open"][-1] == pytest.approx(190.0 + 29 * 0.5 - 0.2)
    assert aapl["close"][-1] == pytest.approx(199.0)
    assert aapl["high"][-1] == pytest.approx(205.0)
    assert aapl["volume"][-1] == 1029 + 100
    assert msft["t"] == []  # MSFT's bars end at 15:19, outside (15:19, 15:29]
    assert body["rows"] == 10

    explicit = client.get("/api/bars", params={"symbols": "MSFT", "minutes": "5", "end": "2026-11-24T15:10:00Z"}).json()
    assert len(explicit["series"]["MSFT"]["t"]) == 5
    assert explicit["series"]["MSFT"]["high"][0] == pytest.approx(410.0 + 6 * 0.5 + 0.3)

    for params, needle in (
        ({"symbols": "AAPL;DROP TABLE x", "minutes": "10"}, "not a valid symbol"),
        ({"symbols": ",".join(f"S{i}" for i in range(11))}, "at most 10"),
        ({"symbols": "AAPL", "minutes": "1441"}, "between 1 and 1440"),
        ({"symbols": "AAPL", "minutes": "ten"}, "whole number"),
        ({"symbols": "AAPL", "end": "yesterday"}, "ISO-8601"),
        ({}, "at least one symbol"),
    ):
        bad = client.get("/api/bars", params=params)
        assert bad.status_code == 422, params
        assert needle in bad.json()["error"], bad.json()


# ---------------------------------------------------------------------------------------------------
# Unreachable services: every panel says so, the page still renders, nothing leaks
# ---------------------------------------------------------------------------------------------------


def test_unreachable_broker_and_endpoint_give_503_json_and_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t-" + uuid.uuid4().hex[:6]
    monkeypatch.setenv(
        "AIRFLOW_CONN_KAFKA_DEAD",
        json.dumps({"conn_type": "kafka", "extra": {"bootstrap.servers": "127.0.0.1:9", "group.id": "g"}}),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEAD",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "AKIADEAD",
                "password": secret,
                "extra": {"region_name": "us-east-1", "endpoint_url": "http://127.0.0.1:9"},
            }
        ),
    )
    monkeypatch.setenv("PIPELINE_KAFKA_CONN_ID", "kafka_dead")
    monkeypatch.setenv("PIPELINE_AWS_CONN_ID", "aws_dead")
    app = market_ui_app(load_settings(), kafka_timeout=2.0)
    with TestClient(app) as test_client:
        page = test_client.get("/")
        assert page.status_code == 200
        assert "Market pipeline" in page.text and 'id="lag-table"' in page.text
        responses = [
            test_client.get(path)
            for path in (
                "/api/lag",
                "/api/windows",
                "/api/reports",
                "/api/freshness",
                "/api/symbols",
                "/api/bars?symbols=AAPL",
            )
        ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.json()["error"]
        assert secret not in response.text
    assert "Kafka" in responses[0].json()["error"]
    assert "connect" in responses[1].json()["error"].lower()
    assert secret not in page.text
