"""Whether a window may have lost messages to retention, decided from evidence; broker-down errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from confluent_kafka import KafkaError, KafkaException

from market_pipeline.ingest.kafka_window import (
    BrokerUnavailableError,
    RetentionEvidence,
    Window,
    WindowError,
    WindowExpiredError,
    resolve_offsets,
)

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(minutes=5))
NOW_MS = (START + timedelta(minutes=6)).timestamp() * 1000
DAY_MS = 86_400_000


@pytest.mark.parametrize(
    ("evidence", "lost"),
    [
        # a rerun: the window's own manifest says where it started
        (RetentionEvidence(window_starts={0: 10}), False),
        (RetentionEvidence(window_starts={0: 7}), True),
        # an earlier window read everything that is now deleted
        (RetentionEvidence(previous_end=START - timedelta(days=3), previous_end_offsets={0: 10}), False),
        (RetentionEvidence(previous_end=START, previous_end_offsets={0: 12}), False),
        # the previous window ended where this one starts, and offsets after it were deleted unread
        (RetentionEvidence(previous_end=START, previous_end_offsets={0: 8}), True),
        # ... with a hole between the previous window and this one, time retention decides
        (
            RetentionEvidence(7 * DAY_MS, -1, previous_end=START - timedelta(hours=1), previous_end_offsets={0: 8}),
            False,
        ),
        # time retention: everything deleted is older than now - retention.ms
        (RetentionEvidence(retention_ms=7 * DAY_MS, retention_bytes=-1), False),
        (RetentionEvidence(retention_ms=60_000, retention_bytes=-1), True),  # the window is older than that
        # size retention deletes messages of any age
        (RetentionEvidence(retention_ms=7 * DAY_MS, retention_bytes=1 << 30), True),
        # unlimited retention: only an operator deleted them; nothing places them
        (RetentionEvidence(retention_ms=-1, retention_bytes=-1), True),
        (RetentionEvidence(), True),
    ],
)
def test_deleted_offsets_below_the_window_are_judged_from_evidence(evidence, lost):
    assert (evidence.lost(WINDOW, 0, 10, NOW_MS) is not None) is lost


class FakeConsumer:
    """A consumer of one 1-partition topic with fixed watermarks and offsets_for_times answers."""

    def __init__(self, low: int, high: int, by_time: int = -1, offsets_error: KafkaError | None = None) -> None:
        self.low, self.high, self.by_time, self.offsets_error = low, high, by_time, offsets_error

    def list_topics(self, topic=None, timeout=None):
        return SimpleNamespace(topics={topic: SimpleNamespace(error=None, partitions={0: None})})

    def get_watermark_offsets(self, tp, timeout=None):
        return self.low, self.high

    def offsets_for_times(self, tps, timeout=None):
        return [SimpleNamespace(partition=tp.partition, offset=self.by_time, error=self.offsets_error) for tp in tps]


def test_an_emptied_partition_asks_for_evidence_once_and_fails_without_it():
    asked = []

    def evidence():
        asked.append(1)
        return RetentionEvidence(previous_end=START, previous_end_offsets={0: 10})

    consumer = FakeConsumer(low=10, high=10)  # every message deleted; none at or after the window
    (rng,) = resolve_offsets(consumer, "t", WINDOW, timeout=1, evidence=evidence, clock=lambda: NOW_MS / 1000)
    assert (rng.start_offset, rng.end_offset, len(asked)) == (10, 10, 1)
    with pytest.raises(WindowExpiredError, match="may be among them"):
        resolve_offsets(consumer, "t", WINDOW, timeout=1, clock=lambda: NOW_MS / 1000)


def test_nothing_deleted_needs_no_evidence():
    def evidence():
        raise AssertionError("not needed")

    (rng,) = resolve_offsets(FakeConsumer(low=0, high=5, by_time=2), "t", WINDOW, timeout=1, evidence=evidence)
    assert (rng.start_offset, rng.end_offset) == (2, 2)


@pytest.mark.parametrize(
    "code", [KafkaError._UNKNOWN_PARTITION, KafkaError._TRANSPORT, KafkaError.LEADER_NOT_AVAILABLE]
)
def test_a_broker_that_went_away_is_unavailable_not_a_window_error(code):
    consumer = FakeConsumer(low=0, high=5, offsets_error=KafkaError(code))
    with pytest.raises(BrokerUnavailableError, match="the broker is unavailable or restarting") as excinfo:
        resolve_offsets(consumer, "t", WINDOW, timeout=1)
    assert "_UNKNOWN_PARTITION" not in str(excinfo.value)


def test_watermarks_of_a_vanished_broker_are_unavailable_too():
    consumer = FakeConsumer(low=0, high=5)

    def gone(tp, timeout=None):
        raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION))

    consumer.get_watermark_offsets = gone
    with pytest.raises(BrokerUnavailableError):
        resolve_offsets(consumer, "t", WINDOW, timeout=1)


def test_a_request_error_stays_a_window_error():
    consumer = FakeConsumer(low=0, high=5, offsets_error=KafkaError(KafkaError.INVALID_REQUEST))
    with pytest.raises(WindowError) as excinfo:
        resolve_offsets(consumer, "t", WINDOW, timeout=1)
    assert not isinstance(excinfo.value, BrokerUnavailableError)
