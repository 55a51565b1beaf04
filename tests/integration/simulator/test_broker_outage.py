"""The simulator against a real broker that is stopped mid-run, for shorter and longer than its outage limit.

A broker of its own (scripts/kafka.sh on free ports and a throw-away state directory), so stopping it
disturbs no other test. The ground truth is the topic: what the broker has is counted by reading it,
and compared with what the simulator says it delivered and did not deliver.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from devstack.processes import free_port, pids_with_argument
from simulator import RunResult, SimulatorConfig, run
from tests.support import ROOT, wait_for

pytestmark = pytest.mark.integration

KAFKA_SH = str(ROOT / "scripts" / "kafka.sh")


@dataclass
class Broker:
    env: dict[str, str]

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.env['KAFKA_PORT']}"

    def _script(self, command: str) -> None:
        result = subprocess.run([KAFKA_SH, command], env=self.env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, f"kafka.sh {command}:\n{result.stderr[-3000:]}"

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop")


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    # Under the session's state directory: the broker's files outlive neither the session nor `make test`.
    state = Path(os.environ.get("STATE_DIR", ROOT / ".state")) / f"outage-broker-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "STATE_DIR": str(state),
        "KAFKA_PORT": str(free_port()),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m",
    }
    node = Broker(env)
    node.start()
    yield node
    with contextlib.suppress(AssertionError):
        node.stop()
    for pid in pids_with_argument(str(state)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _topic(broker: Broker) -> str:
    name = f"outage_{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topic = NewTopic(name, num_partitions=3, replication_factor=1, config={"message.timestamp.type": "LogAppendTime"})
    admin.create_topics([topic])[name].result(timeout=30)
    wait_for(lambda: name in admin.list_topics(timeout=5).topics, 30, f"topic {name}")
    return name


def _messages_in(broker: Broker, topic: str) -> int:
    """The topic's message count, once a restarted broker leads its partitions again."""
    return wait_for(lambda: _count(broker, topic) or None, 60, f"{topic}'s watermarks", interval=1) or 0


def _count(broker: Broker, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"count-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        total = 0
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            total += high - low
        return total
    finally:
        consumer.close()


def _config(topic: str, **kwargs) -> SimulatorConfig:
    return SimulatorConfig(
        topic=topic,
        universe="AAPL,MSFT,NVDA,JPM",
        rate=300,
        always_open=True,
        install_signal_handlers=False,
        progress_interval_s=1.0,
        **kwargs,
    )


@dataclass
class Outage:
    seconds: float
    results: dict[str, RunResult]
    topics: dict[str, str]
    records: list[logging.LogRecord]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def outage(broker: Broker) -> Outage:
    """One real outage (the broker stopped for about 15 s) under three simulator runs at once:

    - `waits`: an outage limit of 60 s, longer than the outage;
    - `gives_up`: a limit of 5 s, shorter than the outage;
    - `shut_down`: a limit of 60 s, stopped (as SIGTERM stops it) while the broker is down.
    """
    configs = {
        "waits": dict(duration_s=25, outage_limit_s=60),
        "gives_up": dict(duration_s=60, outage_limit_s=5),
        "shut_down": dict(duration_s=60, outage_limit_s=60, flush_timeout_s=2.0),
    }
    topics = {name: _topic(broker) for name in configs}
    stops = {name: threading.Event() for name in configs}
    results: dict[str, RunResult] = {}
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    threads = [
        threading.Thread(
            target=lambda n=name: results.update(
                {n: run(_config(topics[n], **configs[n]), {"bootstrap.servers": broker.bootstrap}, stops[n])}
            ),
            daemon=True,
        )
        for name in configs
    ]
    try:
        for thread in threads:
            thread.start()
        time.sleep(3)  # every run is producing (a point in the scenario, not synchronisation)
        down_at = time.monotonic()
        broker.stop()
        try:
            time.sleep(3)  # ticks pile up for the missing broker
            stops["shut_down"].set()
            time.sleep(6)
        finally:
            broker.start()
        seconds = time.monotonic() - down_at
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    finally:
        logging.getLogger().removeHandler(collect)
    return Outage(seconds, results, topics, collect.records)


def test_an_outage_shorter_than_the_limit_loses_nothing(outage: Outage, broker: Broker) -> None:
    result = outage.results["waits"]
    assert outage.seconds < 60, f"the outage ({outage.seconds:.0f} s) was meant to be shorter than the limit"
    assert result.failed == 0 and result.stop_reason == "duration", result.to_dict()
    assert result.delivered == result.sent > 0
    assert _messages_in(broker, outage.topics["waits"]) == result.delivered, "every tick once: none lost or doubled"


def test_an_outage_longer_than_the_limit_counts_every_undelivered_tick(outage: Outage, broker: Broker) -> None:
    result = outage.results["gives_up"]
    assert outage.seconds > 5
    assert result.stop_reason.startswith("ticks undelivered"), result.to_dict()
    assert result.duration_s < 30, "it stopped at the limit, not at the end of its duration"
    assert result.failed > 0 and result.delivered > 0, result.to_dict()
    assert result.sent == result.delivered + result.failed
    assert _messages_in(broker, outage.topics["gives_up"]) == result.delivered, "the broker has exactly those"


def test_a_shutdown_during_an_outage_reports_the_ticks_it_could_not_deliver(outage: Outage, broker: Broker) -> None:
    """Stopped (SIGTERM in Airflow) while the broker is down: a short flush, then every tick still waiting
    is undelivered. The DAG fails such a run: a shutdown with losses is never a success."""
    result = outage.results["shut_down"]
    assert result.stop_reason == "stopped" and result.failed > 0, result.to_dict()
    assert result.sent == result.delivered + result.failed
    assert _messages_in(broker, outage.topics["shut_down"]) == result.delivered


def test_an_outage_is_a_few_warnings_in_the_log(outage: Outage) -> None:
    """librdkafka's own lines come through Python logging, capped at WARNING and rate-limited."""
    kafka_lines = [r for r in outage.records if r.name.startswith("librdkafka")]
    assert kafka_lines, "librdkafka's lines reach Python logging"
    assert all(r.levelno <= logging.WARNING for r in kafka_lines)
    per_run = len(kafka_lines) / len(outage.results)
    assert per_run < 40, f"{len(kafka_lines)} librdkafka log lines for one {outage.seconds:.0f} s outage"
