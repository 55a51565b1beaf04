"""The Kafka side: producer configuration, a pre-flight check, batched sends and delivery accounting.

Delivery accounting uses ``delivery.report.only.error``: librdkafka reports only failures, so the
hot path has no Python callback per acknowledged message (~40 % more throughput on 2 cores), and
``delivered = sent - failed - in flight`` is exact once a flush has drained the queue.

Broker outages: a tick waits for the broker up to ``message.timeout.ms`` (the run's outage limit; the
idempotent producer retries, keeping order and never writing a tick twice), then its delivery fails and
it is counted in ``failed`` (undelivered). librdkafka's logs go through Python logging, rate-limited
(:mod:`simulator.kafka_logs`), so an outage is a few log lines rather than thousands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from simulator.kafka_logs import client_config, rate_limited

log = logging.getLogger("simulator")
# Error callbacks repeat for as long as a broker is down: the first of a kind at once, then a summary.
error_log = rate_limited("simulator")
# Transient errors: librdkafka retries by itself; a tick is lost only when its delivery times out.
TRANSIENT_ERRORS = frozenset(
    {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE, KafkaError._TIMED_OUT}
)

PRODUCER_DEFAULTS: dict[str, Any] = {
    "client.id": "market-simulator",
    "acks": "all",
    "enable.idempotence": True,
    "compression.type": "zstd",  # measured faster than lz4 end to end with the local broker
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 500_000,
    "queue.buffering.max.kbytes": 512 * 1024,
    "message.timeout.ms": 300_000,  # the outage limit; runner.run sets it from SimulatorConfig.outage_limit_s
    "socket.connection.setup.timeout.ms": 10_000,
    "delivery.report.only.error": True,
    # Never let a produce auto-create the topic: the broker would create it with CreateTime
    # timestamps, breaking the pipeline's LogAppendTime window ownership.
    "allow.auto.create.topics": False,
}

# The topic configs of --create-topic: broker append time, which the pipeline's ingest windows rely on.
# Stated again, on purpose, because the simulator is a standalone tool that does not import the pipeline
# library; tests/unit/simulator checks it agrees with market_pipeline.setup.topic, the pipeline's owner.
CREATED_TOPIC_CONFIG: dict[str, str] = {"message.timestamp.type": "LogAppendTime"}


class BrokerUnavailable(RuntimeError):
    """No broker answered the metadata request in time; the run produced nothing."""


class TopicMissing(RuntimeError):
    """The target topic does not exist and the run was not asked to create it."""


def build_producer_config(
    connection: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults, then the connection's config (e.g. an Airflow Kafka connection extra), then overrides.

    Consumer-only keys (``group.id``...) are dropped so one connection serves producers and consumers,
    and librdkafka logs through Python logging, rate-limited (see :mod:`simulator.kafka_logs`).
    """
    config = client_config({**PRODUCER_DEFAULTS, **(connection or {}), **(overrides or {})})
    if not config.get("bootstrap.servers"):
        raise ValueError("bootstrap.servers is required (--bootstrap-servers or the connection's config)")
    return config


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """``["linger.ms=5", "acks=1"]`` -> dict (librdkafka accepts strings for every property)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-X expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


class KafkaSink:
    """A producer for one topic that counts sent, delivered and failed messages."""

    def __init__(self, config: Mapping[str, Any], topic: str) -> None:
        self.topic = topic
        self.config = dict(config)
        self.sent = 0
        self.failed = 0
        self.errors: list[str] = []
        self.fatal_error: str | None = None
        cfg = dict(self.config)
        cfg["error_cb"] = self._on_error
        self.producer = Producer(cfg)

    # -- callbacks (served from poll/flush on this thread) --------------------------------------
    def _on_error(self, err: KafkaError) -> None:
        text = f"{err.name()}: {err.str()}"
        if err.fatal():
            self.fatal_error = text
            log.error("Kafka fatal error: %s", text)
        elif err.code() in TRANSIENT_ERRORS:
            timeout_s = int(self.config.get("message.timeout.ms", 0)) / 1000
            error_log.warning("Kafka broker unreachable (%s); ticks wait up to %.0f s for it", text, timeout_s)
        else:
            error_log.warning("Kafka error: %s", text)
        self._remember(text)

    def _on_delivery(self, err: KafkaError | None, _msg: object) -> None:
        if err is not None:  # with delivery.report.only.error, successes never get here
            self.failed += 1
            self._remember(f"delivery failed: {err.name()}: {err.str()}")

    def _remember(self, text: str) -> None:
        if len(self.errors) < 20 and text not in self.errors:
            self.errors.append(text)

    # -- counts ---------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self.producer)

    @property
    def delivered(self) -> int:
        return max(0, self.sent - self.failed - self.in_flight)

    # -- operations -----------------------------------------------------------------------------
    def preflight(self, timeout_s: float, create_topic: bool = False, partitions: int = 3) -> int:
        """Fail fast and clearly if no broker answers or the topic is missing; returns partitions."""
        servers = self.config.get("bootstrap.servers")
        deadline = time.monotonic() + timeout_s
        try:
            md = self.producer.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise BrokerUnavailable(
                f"Kafka broker(s) at {servers} did not answer within {timeout_s:.0f}s ({exc.args[0]}); "
                "is the broker running and is bootstrap.servers right?"
            ) from None
        if not md.brokers:
            raise BrokerUnavailable(f"Kafka at {servers} returned no brokers")
        topic_md = md.topics.get(self.topic)
        if topic_md is not None and topic_md.error is None:
            return len(topic_md.partitions)
        if not create_topic:
            raise TopicMissing(
                f"topic {self.topic!r} does not exist on {servers}; run the pipeline's setup (stock_market_setup) "
                "to create it, or pass --create-topic"
            )
        admin = AdminClient(client_config(self.config))
        new = NewTopic(self.topic, num_partitions=partitions, replication_factor=-1, config=dict(CREATED_TOPIC_CONFIG))
        try:
            admin.create_topics([new])[self.topic].result(timeout=max(1.0, deadline - time.monotonic()))
            log.info("created topic %s with %d partitions %s", self.topic, partitions, CREATED_TOPIC_CONFIG)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        return partitions

    def send(self, values: list[bytes], keys: list[bytes], abort: Callable[[], bool] = lambda: False) -> int:
        """Queue messages (key = symbol); waits for room if the local queue is full. Returns queued."""
        messages = [{"key": k, "value": v} for k, v in zip(keys, values, strict=True)]
        queued = 0
        while messages:
            try:
                n = self.producer.produce_batch(self.topic, messages, on_delivery=self._on_delivery)
            except BufferError:
                n = 0
                for m in messages:
                    m["_error"] = KafkaError(KafkaError._QUEUE_FULL)
            queued += n
            self.sent += n
            if n == len(messages):
                break
            retry = []
            for m in messages:
                err = m.pop("_error", None)
                if err is None:
                    continue
                if err.code() == KafkaError._QUEUE_FULL:
                    retry.append(m)
                else:
                    self.sent += 1  # rejected locally (e.g. too large): a failed delivery
                    self.failed += 1
                    self._remember(f"produce rejected: {err}")
            messages = retry
            if messages:
                if abort() or self.fatal_error:
                    # Generated but never handed to librdkafka: undelivered all the same.
                    log.warning("%d ticks not queued (the producer's queue is full): stopping", len(messages))
                    self.sent += len(messages)
                    self.failed += len(messages)
                    self._remember(f"{len(messages)} ticks not queued: the run stopped while the queue was full")
                    break
                self.producer.poll(0.05)  # serve reports while librdkafka drains the queue
        return queued

    def poll(self, timeout: float = 0.0) -> None:
        self.producer.poll(timeout)

    def flush(self, timeout_s: float, cut_short: Callable[[], float | None] = lambda: None) -> int:
        """Wait up to ``timeout_s`` for acknowledgements; purge what is left (counted as failed).

        Waits in one-second steps so signal handlers run meanwhile; ``cut_short()`` returning a number
        of seconds shortens the remaining wait to it (a SIGTERM during a long wait for the broker).
        """
        deadline = time.monotonic() + timeout_s
        remaining = len(self.producer)
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            remaining = self.producer.flush(min(1.0, left))
            shorter = cut_short()
            if shorter is not None:
                deadline = min(deadline, time.monotonic() + shorter)
        if remaining:
            log.warning("flush timed out after %.1fs with %d messages unacknowledged; purging", timeout_s, remaining)
            self.producer.purge(in_queue=True, in_flight=True, blocking=False)
            self.producer.flush(2.0)  # serves the purge reports -> failed
            remaining = len(self.producer)
        return remaining
