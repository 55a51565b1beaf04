"""librdkafka's logs through Python logging: capped at WARNING, repeats rate-limited; no consumer keys."""

from __future__ import annotations

import logging

from simulator.continuity import derive_seed
from simulator.kafka_logs import RateLimitFilter, client_config, librdkafka_logger, log_client_error


def _record(msg: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("librdkafka", level, __file__, 1, msg, None, None)


def test_repeats_are_held_back_then_summarised():
    now = [0.0]
    limiter = RateLimitFilter(interval_s=30, clock=lambda: now[0])
    refused = "FAIL [p#producer-1] 127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: refused (after {}ms)"
    assert limiter.filter(_record(refused.format(0)))
    passed = []
    for i in range(1, 200):  # one outage: 40 lines a second, each with its own numbers
        now[0] = i * 0.1
        passed.append(limiter.filter(_record(refused.format(i))))
    assert not any(passed), "the same condition, other numbers: held back"
    assert limiter.filter(_record("another kind of message")), "another kind passes at once"
    now[0] = 31.0
    record = _record(refused.format(7))
    assert limiter.filter(record)
    assert "199 similar messages" in record.getMessage()


def test_librdkafka_errors_become_warnings(caplog):
    logger = librdkafka_logger()
    assert librdkafka_logger() is logger
    with caplog.at_level(logging.DEBUG, logger="librdkafka"):
        logger.log(logging.ERROR, "%s [%s] %s", "FAIL", "rdkafka#producer-1", "Connect failed: a unique text")
        log_client_error("_TRANSPORT: broker down, another unique text")
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels == {
        "FAIL [rdkafka#producer-1] Connect failed: a unique text": logging.WARNING,
        "Kafka client error: _TRANSPORT: broker down, another unique text": logging.WARNING,
    }


def test_producer_and_admin_configs_carry_no_consumer_properties():
    connection = {"bootstrap.servers": "b:1", "group.id": "ingest", "enable.auto.commit": False, "linger.ms": 5}
    admin = client_config(connection)
    assert "group.id" not in admin and "enable.auto.commit" not in admin and admin["linger.ms"] == 5
    assert admin["logger"] is librdkafka_logger() and callable(admin["error_cb"])
    consumer = client_config(connection, consumer=True)
    assert consumer["group.id"] == "ingest"
    own = client_config({**connection, "error_cb": print})
    assert own["error_cb"] is print, "a connection's own callback is kept"


def test_each_run_gets_its_own_seed():
    seeds = {derive_seed(f"scheduled__2026-11-27T10:{m:02d}:00+00:00") for m in range(60)}
    assert len(seeds) == 60 and all(1 <= s < 2**31 for s in seeds)
    assert derive_seed("manual__x") == derive_seed("manual__x"), "the same run, the same seed"
