"""The simulator against the real broker: exact counts, keys, per-symbol order, bounded failures."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from io import BytesIO

import numpy as np
import pytest
from confluent_kafka import Consumer, TopicPartition

from simulator import BrokerUnavailable, SimulatorConfig, TopicMissing, run
from tests.support import wait_for

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def _watermark_total(bootstrap: str, topic: str) -> int:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"wm-{uuid.uuid4().hex}"})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts)
    finally:
        c.close()


def _consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list:
    """Read every message of the topic from the beginning; fail if fewer than ``expected`` arrive."""
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out: list = []
        deadline = time.monotonic() + timeout
        while len(out) < expected and time.monotonic() < deadline:
            for m in c.consume(10_000, timeout=0.5):
                assert m.error() is None, m.error()
                out.append(m)
        assert len(out) >= expected, f"consumed {len(out)} of {expected} within {timeout}s"
        # Nothing beyond: the high watermarks sum to exactly what was read.
        assert _watermark_total(bootstrap, topic) == len(out)
        return out
    finally:
        c.close()


def _check_messages(msgs: list) -> dict[str, list[int]]:
    """Values valid against the contract, key == symbol, one partition and increasing seq per key."""
    import pyarrow.json as pj

    from market_pipeline.schema import MAX_MESSAGE_BYTES, MESSAGE_SCHEMA, SCHEMA_VERSION

    seqs: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, int] = {}
    for m in sorted(msgs, key=lambda m: (m.partition(), m.offset())):
        value = json.loads(m.value())
        assert len(m.value()) < MAX_MESSAGE_BYTES
        assert list(value) == MESSAGE_SCHEMA.names and value["schema_version"] == SCHEMA_VERSION
        assert m.key().decode() == value["symbol"]
        assert partition_of.setdefault(value["symbol"], m.partition()) == m.partition()
        assert value["bid"] < value["ask"]
        seqs[value["symbol"]].append(value["seq"])
    for symbol, s in seqs.items():
        assert all(b > a for a, b in itertools.pairwise(s)), f"{symbol}: seq not increasing in offset order"
    table = pj.read_json(
        BytesIO(b"\n".join(m.value() for m in msgs)),
        parse_options=pj.ParseOptions(explicit_schema=MESSAGE_SCHEMA, unexpected_field_behavior="error"),
    )
    assert table.num_rows == len(msgs)
    return seqs


def test_produces_exactly_n_ticks_keyed_and_ordered(kafka_bootstrap, kafka_topic) -> None:
    topic = kafka_topic(partitions=3, prefix="sim")
    n = 30_000
    result = run(
        SimulatorConfig(topic=topic, rate=0, max_ticks=n, clock="simulated", start=START, seed=11),
        {"bootstrap.servers": kafka_bootstrap},
    )
    assert (result.delivered, result.failed, result.sent) == (n, 0, n)
    assert result.stop_reason == "max_ticks"
    msgs = _consume_all(kafka_bootstrap, topic, n)
    seqs = _check_messages(msgs)
    assert len(seqs) == 20
    assert sum(len(s) for s in seqs.values()) == n
    assert all(s[0] == 1 and s[-1] == len(s) for s in seqs.values()), "no gaps, no duplicates"
    # Deterministic: the simulated clock starts at --start.
    assert result.first_event_time is not None and result.first_event_time.startswith("2026-11-24T14:30:00")


def test_paced_rate_and_duration(kafka_bootstrap, kafka_topic) -> None:
    topic = kafka_topic(partitions=1, prefix="sim")
    result = run(
        SimulatorConfig(topic=topic, rate=2000, duration_s=2.0, always_open=True, universe="AAPL,MSFT"),
        {"bootstrap.servers": kafka_bootstrap},
    )
    assert result.stop_reason == "duration" and result.failed == 0
    assert 3000 <= result.delivered <= 4200, result.delivered
    msgs = _consume_all(kafka_bootstrap, topic, result.delivered)
    assert {m.key() for m in msgs} == {b"AAPL", b"MSFT"}
    # Wall clock mode: event_time is the emission time, close to the broker's append time.
    for m in msgs[:: max(1, len(msgs) // 50)]:
        event = datetime.fromisoformat(json.loads(m.value())["event_time"].replace("Z", "+00:00"))
        assert abs(event.timestamp() * 1000 - m.timestamp()[1]) < 5_000


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_broker_down_fails_fast_with_a_clear_message() -> None:
    address = f"127.0.0.1:{_unused_port()}"
    t0 = time.monotonic()
    with pytest.raises(BrokerUnavailable) as exc:
        run(SimulatorConfig(topic="nowhere", max_ticks=10, metadata_timeout_s=3), {"bootstrap.servers": address})
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert address in str(exc.value) and "did not answer" in str(exc.value)


def test_cli_broker_down_exit_code_and_message() -> None:
    address = f"127.0.0.1:{_unused_port()}"
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "-b", address, "--count", "5", "--metadata-timeout", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert f"error: Kafka broker(s) at {address} did not answer" in proc.stderr


def test_cli_continue_numbers_on_from_the_topic_and_says_when_the_broker_is_down(kafka_bootstrap, kafka_topic) -> None:
    """`--continue` (feeding the pipeline's topic by hand): a second run's seqs follow the first run's."""
    topic = kafka_topic(partitions=3, prefix="sim")
    argv = ["-m", "simulator", "-b", kafka_bootstrap, "-t", topic, "--rate", "0", "--universe", "AAPL,MSFT"]
    for count in ("300", "200"):
        proc = subprocess.run(
            [sys.executable, *argv, "--count", count, "--always-open", "--continue", "-q"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
    seqs = _check_messages(_consume_all(kafka_bootstrap, topic, 500))
    assert set(seqs) == {"AAPL", "MSFT"}
    for symbol, numbers in seqs.items():
        assert numbers == list(range(1, len(numbers) + 1)), f"{symbol}: seq not 1, 2, ... across the two runs"

    address = f"127.0.0.1:{_unused_port()}"
    down = subprocess.run(
        [sys.executable, "-m", "simulator", "-b", address, "--count", "5", "--metadata-timeout", "2", "--continue"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 3, down.stderr
    assert f"error: Kafka broker(s) at {address} did not answer" in down.stderr and "--continue" in down.stderr


def test_missing_topic_is_not_auto_created(kafka_bootstrap, kafka_admin) -> None:
    topic = f"sim_missing_{uuid.uuid4().hex[:10]}"
    with pytest.raises(TopicMissing, match=topic):
        run(SimulatorConfig(topic=topic, max_ticks=10), {"bootstrap.servers": kafka_bootstrap})
    assert topic not in kafka_admin.list_topics(timeout=10).topics


def test_create_topic_uses_log_append_time(kafka_bootstrap, kafka_admin) -> None:
    from confluent_kafka.admin import ConfigResource

    topic = f"sim_created_{uuid.uuid4().hex[:10]}"
    try:
        result = run(
            SimulatorConfig(
                topic=topic, max_ticks=100, rate=0, create_topic=True, topic_partitions=2, always_open=True
            ),
            {"bootstrap.servers": kafka_bootstrap},
        )
        assert result.delivered == 100
        md = kafka_admin.list_topics(topic, timeout=10).topics[topic]
        assert len(md.partitions) == 2
        res = ConfigResource(ConfigResource.Type.TOPIC, topic)
        cfg = kafka_admin.describe_configs([res])[res].result(timeout=10)
        assert cfg["message.timestamp.type"].value == "LogAppendTime"
    finally:
        kafka_admin.delete_topics([topic])[topic].result(timeout=30)  # created by this test


def test_stop_event_flushes_everything_sent(kafka_bootstrap, kafka_topic) -> None:
    topic = kafka_topic(partitions=3, prefix="sim")
    stop = threading.Event()
    box: dict = {}
    thread = threading.Thread(
        target=lambda: box.setdefault(
            "result",
            run(
                SimulatorConfig(topic=topic, rate=20_000, always_open=True),
                {"bootstrap.servers": kafka_bootstrap},
                stop_event=stop,
            ),
        ),
    )
    thread.start()
    try:
        wait_for(lambda: _watermark_total(kafka_bootstrap, topic) > 5_000, 30, "ticks on the topic")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    result = box["result"]
    assert result.stop_reason == "stopped" and result.failed == 0 and result.delivered > 5_000
    msgs = _consume_all(kafka_bootstrap, topic, result.delivered)
    assert len(msgs) == result.delivered
    _check_messages(msgs)


def test_sigterm_flushes_and_reports(kafka_bootstrap, kafka_topic) -> None:
    topic = kafka_topic(partitions=3, prefix="sim")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "-b",
            kafka_bootstrap,
            "-t",
            topic,
            "--rate",
            "20000",
            "--always-open",
            "--json",
            "--progress-interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        wait_for(
            lambda: _watermark_total(kafka_bootstrap, topic) > 10_000 or proc.poll() is not None,
            60,
            "the CLI producing",
        )
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["stop_reason"] == "stopped" and summary["failed"] == 0
    assert "received SIGTERM" in err and "progress:" in err
    msgs = _consume_all(kafka_bootstrap, topic, summary["delivered"])
    assert len(msgs) == summary["delivered"]


def test_replay_file_to_kafka(kafka_bootstrap, kafka_topic, tmp_path) -> None:
    topic = kafka_topic(partitions=3, prefix="sim")
    csv = tmp_path / "indexProcessed.csv"
    csv.write_text(
        "Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD\n"
        "NYA,1987-01-02,1392.660034,1422.719971,1392.660034,1422.719971,1422.719971,0,1422.719971\n"
        "NYA,1987-01-05,1422.719971,1459.089966,1421.5,1453.170044,1453.170044,0,1453.170044\n"
        "IXIC,1987-01-02,348.809998,349.799988,347.5,349.799988,349.799988,0,349.799988\n"
    )
    result = run(
        SimulatorConfig(topic=topic, mode="replay", replay_file=str(csv), rate=0, ticks_per_bar=100),
        {"bootstrap.servers": kafka_bootstrap},
    )
    assert result.stop_reason == "end of replay" and result.delivered == 300 and result.failed == 0
    assert result.first_event_time == "1987-01-02T14:30:00.000000Z"
    seqs = _check_messages(_consume_all(kafka_bootstrap, topic, 300))
    assert {k: len(v) for k, v in seqs.items()} == {"NYA": 200, "IXIC": 100}


def test_replay_speed_paces_by_trading_time(kafka_bootstrap, kafka_topic, tmp_path) -> None:
    topic = kafka_topic(partitions=1, prefix="sim")
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "date,symbol,open,high,low,close,volume\n"
        "2024-03-04,AAPL,175,176.5,174.2,176,1000\n"
        "2024-03-05,AAPL,176,177,175,175.5,1000\n"
    )
    # Two sessions of trading time (2 x 23,400 s) at 23,400x: about two seconds.
    result = run(
        SimulatorConfig(topic=topic, mode="replay", replay_file=str(csv), rate=0, speed=23_400, ticks_per_bar=50),
        {"bootstrap.servers": kafka_bootstrap},
    )
    assert result.delivered == 100 and result.stop_reason == "end of replay"
    assert 1.5 < result.duration_s < 6, result.duration_s


def test_closed_market_emits_nothing_in_wall_clock_mode(kafka_bootstrap, kafka_topic, monkeypatch, caplog) -> None:
    """With the calendar on, a live run outside the session waits instead of producing."""
    from simulator import calendar as cal

    topic = kafka_topic(partitions=1, prefix="sim")
    monkeypatch.setattr(cal.TradingCalendar, "is_open", lambda self, ts: np.zeros(np.size(ts), dtype=bool))
    caplog.set_level("INFO", logger="simulator")
    result = run(
        SimulatorConfig(topic=topic, rate=1000, duration_s=1.0, always_open=False),
        {"bootstrap.servers": kafka_bootstrap},
    )
    assert (result.sent, result.delivered, result.stop_reason) == (0, 0, "duration")
    assert "market closed; next open" in caplog.text
    assert _watermark_total(kafka_bootstrap, topic) == 0


def test_the_next_run_continues_from_the_newest_ticks_on_the_topic(kafka_bootstrap, kafka_topic) -> None:
    """last_ticks reads each symbol's newest price and seq from the topic: the run that follows starts
    at that price and numbers its ticks on, so seq rises strictly per symbol across both runs (bars take
    open and close by it)."""
    from simulator.continuity import last_ticks

    topic = kafka_topic(partitions=3, prefix="sim")
    symbols = ["AAPL", "MSFT", "NVDA", "JPM"]
    first = run(
        SimulatorConfig(
            topic=topic, rate=0, max_ticks=5_000, clock="simulated", start=START, seed=3, universe="AAPL,MSFT,NVDA,JPM"
        ),
        {"bootstrap.servers": kafka_bootstrap},
    )
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": f"resume-{uuid.uuid4().hex}"})
    try:
        found = last_ticks(consumer, topic, [*symbols, "KO"], lookback=1_000)
    finally:
        consumer.close()
    assert {s: t.price for s, t in found.items()} == first.last_prices, "the newest tick of each symbol"
    assert sum(t.seq for t in found.values()) == 5_000, "seq counts each symbol's ticks from 1"
    second = run(
        SimulatorConfig(
            topic=topic,
            rate=0,
            max_ticks=2_000,
            clock="simulated",
            start=START,
            seed=4,
            universe="AAPL,MSFT,NVDA,JPM",
            start_prices={s: t.price for s, t in found.items()},
            start_seqs={s: t.seq for s, t in found.items()},
        ),
        {"bootstrap.servers": kafka_bootstrap},
    )
    assert second.seed == 4 and second.start_seqs == {s: t.seq for s, t in found.items()}
    for symbol in symbols:  # a few thousand ticks later, still near where the first run ended
        assert abs(second.last_prices[symbol] / found[symbol].price - 1) < 0.05, (symbol, found, second.last_prices)
    seqs = _check_messages(_consume_all(kafka_bootstrap, topic, 7_000))  # per symbol, in offset order
    for symbol, numbers in seqs.items():
        assert numbers == list(range(1, len(numbers) + 1)), f"{symbol}: seq not 1, 2, ... across the two runs"
