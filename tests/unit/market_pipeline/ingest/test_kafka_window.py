"""Deterministic chunking of a partition's offset range, independent of how consume() batches arrive."""

from __future__ import annotations

import pytest
from confluent_kafka import Message

from market_pipeline.ingest.kafka_window import (
    WINDOW_CONSUMER_OVERRIDES,
    PartitionRange,
    Window,
    _partition_runs,
    _PartitionCursor,
    window_consumer_config,
)
from market_pipeline.ingest.options import IngestOptions


def messages(partition: int, offsets: range | list[int]) -> list[Message]:
    return [Message(topic="t", partition=partition, offset=o, value=b"{}", timestamp=(2, 0)) for o in offsets]


def chunks_for(rng: PartitionRange, chunk_size: int, batches: list[list[int]]) -> list[tuple[int, int, list[int]]]:
    cursor = _PartitionCursor(rng, chunk_size)
    out = []
    for batch in batches:
        for chunk in cursor.feed(messages(rng.partition, batch)):
            out.append((chunk.range_start, chunk.range_end, chunk.offsets.tolist()))
            assert len(chunk.values) == len(chunk.keys) == len(chunk.timestamps_ms) == len(chunk.offsets)
    assert cursor.done
    return out


@pytest.mark.parametrize("batch_size", [1, 3, 7, 10, 25, 100])
def test_chunk_bounds_do_not_depend_on_consume_batches(batch_size):
    offsets = [*range(10, 35), 35, 36, 37]  # 35..37 are past the window end: dropped
    batches = [offsets[i : i + batch_size] for i in range(0, len(offsets), batch_size)]
    chunks = chunks_for(PartitionRange(0, 10, 35), 10, batches)
    assert [(a, b) for a, b, _ in chunks] == [(10, 20), (20, 30), (30, 35)]
    assert [o for _, _, offs in chunks for o in offs] == list(range(10, 35))


def test_offset_gaps_still_chunk_by_offset_value():
    chunks = chunks_for(PartitionRange(0, 0, 30), 10, [[0, 1, 5, 12, 13, 29]])
    assert chunks == [(0, 10, [0, 1, 5]), (10, 20, [12, 13]), (20, 30, [29])]


def test_partition_runs_split_mixed_batches():
    batch = messages(0, [1, 2]) + messages(2, [7]) + messages(0, [3])
    runs = _partition_runs(batch)
    assert [(p, [m.offset() for m in run]) for p, run in runs] == [(0, [1, 2]), (2, [7]), (0, [3])]


def test_consumer_config_overrides_auto_commit_and_needs_a_group():
    config = window_consumer_config({"bootstrap.servers": "x", "enable.auto.commit": True}, group_id="g")
    assert config["enable.auto.commit"] is False and config["group.id"] == "g"
    assert set(WINDOW_CONSUMER_OVERRIDES) <= set(config)
    with pytest.raises(ValueError):
        window_consumer_config({"bootstrap.servers": "x"})


def test_window_and_options_validation():
    from datetime import UTC, datetime

    with pytest.raises(ValueError):
        Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        Window(datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert Window(datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, 0, 0, 1, 500, tzinfo=UTC)).end_ms == 1000
    with pytest.raises(ValueError):
        IngestOptions(max_bad_share=2)


def test_the_pipeline_group_wins_over_the_connection_group():
    """Ingest commits to, and the UI reads lag of, PIPELINE_CONSUMER_GROUP whatever the connection says."""
    config = window_consumer_config({"bootstrap.servers": "x", "group.id": "from_connection"}, group_id="pipeline")
    assert config["group.id"] == "pipeline"
    assert window_consumer_config({"bootstrap.servers": "x", "group.id": "c"})["group.id"] == "c"
