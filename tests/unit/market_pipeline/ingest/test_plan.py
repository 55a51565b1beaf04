"""Spreading a window's partitions over tasks, and the plan as an XCom carries it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from market_pipeline.ingest.kafka_window import PartitionRange, Window
from market_pipeline.ingest.options import IngestOptions
from market_pipeline.ingest.plan import PartitionWork, WindowPlan, group_partitions

WINDOW = Window(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), datetime(2026, 11, 25, 10, 5, tzinfo=UTC))


def ranges(*counts: int) -> tuple[PartitionRange, ...]:
    return tuple(PartitionRange(p, 1000 * p, 1000 * p + n) for p, n in enumerate(counts))


def test_one_task_per_partition_when_they_fit():
    assert group_partitions(ranges(5, 0, 7), max_tasks=3) == ((0,), (1,), (2,))
    assert group_partitions(ranges(5, 0, 7), max_tasks=16) == ((0,), (1,), (2,))


def test_more_partitions_than_tasks_are_balanced_by_messages():
    groups = group_partitions(ranges(100, 10, 10, 10, 90, 20), max_tasks=2)
    assert sorted(p for g in groups for p in g) == [0, 1, 2, 3, 4, 5]
    loads = sorted(sum((100, 10, 10, 10, 90, 20)[p] for p in g) for g in groups)
    assert loads == [120, 120]
    assert groups == group_partitions(ranges(100, 10, 10, 10, 90, 20), max_tasks=2), "deterministic"


def test_a_single_task_takes_every_partition_and_an_empty_window_still_has_tasks():
    assert group_partitions(ranges(3, 4, 5), max_tasks=1) == ((0, 1, 2),)
    assert group_partitions(ranges(0, 0, 0), max_tasks=2) == ((0, 2), (1,))
    with pytest.raises(ValueError):
        group_partitions(ranges(1), max_tasks=0)


def test_the_plan_survives_json_and_its_work_items_cover_each_partition_once():
    plan = WindowPlan("ticks", "topic", WINDOW, ranges(5, 6, 7, 8), group_partitions(ranges(5, 6, 7, 8), 3))
    again = WindowPlan.from_work(json.loads(json.dumps(plan.work())))
    assert again == plan and again.messages == 26
    work = [PartitionWork.from_dict(json.loads(json.dumps(item))) for item in plan.work()]
    assert len(work) == 3
    assert sorted(r.partition for w in work for r in w.ranges) == [0, 1, 2, 3]
    assert all(w.window == WINDOW and w.topic == "topic" and w.table == "ticks" for w in work)
    assert [w.label for w in work] == ["p0,p1", "p2", "p3"]  # the two smallest share a task


def test_a_plan_whose_tasks_miss_or_repeat_a_partition_is_refused():
    with pytest.raises(ValueError, match="exactly once"):
        WindowPlan("ticks", "topic", WINDOW, ranges(1, 2), ((0,),))
    with pytest.raises(ValueError, match="exactly once"):
        WindowPlan("ticks", "topic", WINDOW, ranges(1, 2), ((0, 1), (1,)))


def test_max_ingest_tasks_is_bounded_by_airflows_map_length():
    with pytest.raises(ValueError, match="max_ingest_tasks"):
        IngestOptions(max_ingest_tasks=0)
    with pytest.raises(ValueError, match="max_ingest_tasks"):
        IngestOptions(max_ingest_tasks=5000)


def test_the_seal_rebuilds_the_plan_from_its_work_items():
    plan = WindowPlan("ticks", "topic", WINDOW, ranges(5, 6, 7, 8), group_partitions(ranges(5, 6, 7, 8), 3))
    assert WindowPlan.from_work(json.loads(json.dumps(plan.work()))) == plan
    other = WindowPlan("ticks", "other", WINDOW, ranges(1), ((0,),))
    with pytest.raises(ValueError, match="different windows"):
        WindowPlan.from_work(plan.work() + other.work())


def test_retention_evidence_reads_this_window_s_parts_when_it_was_never_sealed():
    """A rerun of a window whose partitions were written but not sealed still knows where it started."""
    from market_pipeline.ingest.plan import retention_evidence
    from market_pipeline.manifest import PartitionSummary, PartManifest, write_part_manifest
    from tests.fakes import FakeS3, lake_window

    s3 = FakeS3()
    lake_window(s3, WINDOW.start - (WINDOW.end - WINDOW.start), {0: (0, 10), 1: (0, 4)})  # the window before
    part = PartManifest("ticks", "topic", WINDOW.start, WINDOW.end, 1, PartitionSummary(1, 4, 9, 5, 5, 0), ())
    write_part_manifest(s3, "lake", part)
    evidence = retention_evidence(s3, "lake", "ticks", "topic", WINDOW, None, IngestOptions(retention_ms=-1))
    assert dict(evidence.window_starts) == {1: 4}
    assert dict(evidence.previous_end_offsets) == {0: 10, 1: 4} and evidence.previous_end == WINDOW.start
    assert evidence.lost(WINDOW, 1, 4, 0) is None and evidence.lost(WINDOW, 1, 5, 0) is not None
