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
from simulator import SimulatorConfig, run
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


def _run_in_thread(config: SimulatorConfig, bootstrap: str) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def target() -> None:
        out["result"] = run(config, {"bootstrap.servers": bootstrap})

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


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


def test_an_outage_shorter_than_the_limit_loses_nothing(broker: Broker, caplog) -> None:
    topic = _topic(broker)
    caplog.set_level(logging.INFO)
    thread, out = _run_in_thread(_config(topic, duration_s=12, outage_limit_s=60), broker.bootstrap)
    time.sleep(2)  # the run is producing (a fixed point in its duration, not synchronisation)
    down_at = time.monotonic()
    broker.stop()
    time.sleep(3)
    broker.start()
    outage = time.monotonic() - down_at
    thread.join(timeout=120)
    assert not thread.is_alive()
    result = out["result"]
    assert outage < 60, f"the outage ({outage:.0f} s) was meant to be shorter than the limit"
    assert result.failed == 0 and result.stop_reason == "duration", result.to_dict()
    assert result.delivered == result.sent > 0
    assert _messages_in(broker, topic) == result.delivered, "every tick once: none lost, none written twice"
    # librdkafka's own lines come through Python logging, capped at WARNING and rate-limited.
    kafka_lines = [r for r in caplog.records if r.name.startswith("librdkafka")]
    assert all(r.levelno <= logging.WARNING for r in kafka_lines)
    assert len(kafka_lines) < 40, f"{len(kafka_lines)} librdkafka log lines for one short outage"


def test_an_outage_longer_than_the_limit_counts_every_undelivered_tick(broker: Broker) -> None:
    topic = _topic(broker)
    thread, out = _run_in_thread(_config(topic, duration_s=60, outage_limit_s=10), broker.bootstrap)
    time.sleep(2)
    broker.stop()
    try:
        thread.join(timeout=60)
        assert not thread.is_alive(), "the run gives up once a tick exceeded the outage limit"
    finally:
        broker.start()
    result = out["result"]
    assert result.stop_reason.startswith("ticks undelivered"), result.to_dict()
    assert result.duration_s < 30, "it stopped at the limit, not at the end of its duration"
    assert result.failed > 0 and result.delivered > 0, result.to_dict()
    assert result.sent == result.delivered + result.failed
    assert _messages_in(broker, topic) == result.delivered, "the broker has exactly the delivered ticks"
