"""`dag.test()` of stock_market_simulator against the real broker: success, and counts that match."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.support import load_dag

pytestmark = pytest.mark.e2e


def _xcom(dr, task_id: str, key: str = "return_value"):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dr.dag_id,
                XComModel.run_id == dr.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        ).one()
        value = row.value
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _seqs_by_key(bootstrap: str, topic: str) -> dict[bytes, list[int]]:
    """Every message of the topic: each key's `seq` values in offset order (a key lives in one partition)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"e2e-{uuid.uuid4().hex}", "enable.auto.commit": False})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        seqs: dict[bytes, list[int]] = {}
        count = 0
        while count < sum(ends.values()):
            batch = c.consume(10_000, timeout=5)
            assert batch, f"stalled after {count} of {sum(ends.values())} messages"
            for m in batch:
                assert m.error() is None
                seqs.setdefault(m.key(), []).append(json.loads(m.value())["seq"])
                count += 1
        return seqs
    finally:
        c.close()


def test_simulator_dag_run_delivers_what_it_reports(airflow_db, kafka_bootstrap, kafka_topic, monkeypatch) -> None:
    topic = kafka_topic(partitions=3, prefix="e2e_sim")
    monkeypatch.setenv("PIPELINE_TOPIC", topic)  # read by market_pipeline.settings in the task
    dag = load_dag("stock_market_simulator")
    dr = dag.test(run_conf={"duration_s": 3, "rate": 3000, "universe": "AAPL,MSFT,NVDA", "seed": 5})
    assert dr.state == "success", f"run ended {dr.state}"
    result = _xcom(dr, "simulate")
    assert result["failed"] == 0 and result["stop_reason"] == "duration"
    assert 6_000 <= result["delivered"] <= 10_000, result
    seqs = _seqs_by_key(kafka_bootstrap, topic)
    assert sum(map(len, seqs.values())) == result["delivered"]
    assert set(seqs) == {b"AAPL", b"MSFT", b"NVDA"}


def test_simulator_dag_fails_clearly_for_replay_without_file(airflow_db, kafka_topic, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_TOPIC", kafka_topic(partitions=1, prefix="e2e_sim"))
    dag = load_dag("stock_market_simulator")
    dr = dag.test(run_conf={"duration_s": 1, "mode": "replay"})
    assert dr.state == "failed"


def test_consecutive_runs_continue_the_market_with_seeds_of_their_own(
    airflow_db, kafka_bootstrap, kafka_topic, monkeypatch
) -> None:
    """The default seed (0) gives each run its own; each run starts at the prices the last one ended at
    and numbers each symbol's ticks on from the last one's (bars order a minute's trades by seq)."""
    topic = kafka_topic(partitions=3, prefix="e2e_sim")
    monkeypatch.setenv("PIPELINE_TOPIC", topic)
    dag = load_dag("stock_market_simulator")
    conf = {"duration_s": 2, "rate": 2000, "universe": "AAPL,MSFT,NVDA"}
    summaries = []
    for _ in range(2):
        dr = dag.test(run_conf=conf)
        assert dr.state == "success"
        summaries.append(_xcom(dr, "simulate", "summary"))
        assert _xcom(dr, "simulate") == summaries[-1], "the summary is also the return value"
    first, second = summaries
    assert first["seed"] != second["seed"] and first["seed"] > 0
    assert first["start_prices"] is None, "an empty topic: the universe's reference prices"
    assert second["start_prices"] == first["last_prices"], "the market continues where it left off"
    assert first["start_seqs"] is None and set(second["start_seqs"]) == {"AAPL", "MSFT", "NVDA"}
    for key, numbers in _seqs_by_key(kafka_bootstrap, topic).items():
        assert numbers == list(range(1, len(numbers) + 1)), f"{key!r}: seq not 1, 2, ... across the two runs"

    # The Market pipeline page lists both runs with their counts, read from Airflow's metadata DB.
    from fastapi.testclient import TestClient

    from market_pipeline.settings import load_settings
    from tests.support import market_ui_app

    with TestClient(market_ui_app(load_settings())) as client:
        body = client.get("/api/producer?limit=100").json()
    assert body["error"] is None, body
    listed = {r["seed"]: r for r in body["runs"] if r["final"]}
    for summary in summaries:
        row = listed[summary["seed"]]
        assert (row["state"], row["sent"], row["delivered"], row["undelivered"]) == (
            "success",
            summary["sent"],
            summary["delivered"],
            0,
        )
