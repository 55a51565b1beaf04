"""The mapped layout against the real broker and S3 endpoint: plan -> one task per partition -> seal.

Each "task" here is what the DAG's mapped task does: its own consumer and its own work item (from
`WindowPlan.work()`, round-tripped through JSON as an XCom would be). The reference is the one-process
`ingest_window`: whatever the grouping, the order, a retry of one partition or a second seal, the
bucket must hold the very same keys with the very same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from market_pipeline import layout
from market_pipeline.ingest.options import IngestOptions
from market_pipeline.ingest.partition import PartitionResult, ingest_partitions
from market_pipeline.ingest.plan import PartitionWork, WindowPlan, plan_window
from market_pipeline.ingest.seal import BadShareExceededError, SealError, WindowResult, seal_window
from market_pipeline.manifest import read_manifest
from tests.integration.market_pipeline.ingest_helpers import (
    FAST,
    HOUR_EDGE,
    TABLE,
    FailingS3,
    Stack,
    actual_rows,
    close_windows,
    expected_rows,
    produce_phase,
    produce_with_bad,
    ticks_records,
    window_around,
)
from tests.ticks import make_ticks

pytestmark = pytest.mark.integration


def plan_for(stack: Stack, start, end, options: IngestOptions = FAST) -> WindowPlan:
    consumer = stack.consumer()
    try:
        plan = plan_window(
            consumer,
            stack.s3,
            bucket=stack.bucket,
            table=TABLE,
            topic=stack.topic,
            window_start=start,
            window_end=end,
            options=options,
        )
    finally:
        consumer.close()
    return WindowPlan.from_work(json.loads(json.dumps(plan.work())))  # as an XCom carries it


def run_task(stack: Stack, item: dict, options: IngestOptions = FAST, s3=None) -> list[PartitionResult]:
    consumer = stack.consumer()
    try:
        work = PartitionWork.from_dict(json.loads(json.dumps(item)))
        return ingest_partitions(consumer, s3 or stack.s3, bucket=stack.bucket, work=work, options=options)
    finally:
        consumer.close()


def seal(stack: Stack, plan: WindowPlan, options: IngestOptions = FAST) -> WindowResult:
    consumer = stack.consumer()
    try:
        return seal_window(consumer, stack.s3, bucket=stack.bucket, plan=plan, options=options)
    finally:
        consumer.close()


def mapped(stack: Stack, start, end, options: IngestOptions = FAST, order=None) -> WindowResult:
    plan = plan_for(stack, start, end, options)
    work = plan.work()
    for index in order or range(len(work)):
        run_task(stack, work[index], options)
    return seal(stack, plan, options)


def counts(result: WindowResult) -> dict:
    """A result without what differs between runs by design (duration; offsets committed by this run)."""
    return {k: v for k, v in result.to_dict().items() if k not in ("seconds", "committed")}


@pytest.fixture
def window(stack):
    """300 ticks over the 10:00 hour edge on 3 partitions, closed; returns (start, end, delivered)."""
    inside = produce_phase(stack, ticks_records(make_ticks(300, HOUR_EDGE, step=timedelta(milliseconds=3))))
    close_windows(stack)
    start, end = window_around(inside)
    return start, end, inside


def test_one_task_per_partition_writes_what_one_process_writes(stack, window):
    start, end, inside = window
    plan = plan_for(stack, start, end)
    assert plan.tasks == ((0,), (1,), (2,)) and plan.messages == 300
    result = mapped(stack, start, end, order=[2, 0, 1])  # tasks finish in any order
    assert (result.messages_in, result.rows_out, result.partitions) == (300, 300, 3)
    assert actual_rows(stack.table()) == expected_rows(inside)
    mapped_objects, mapped_etags = stack.objects(), stack.etags()
    assert stack.committed() == {p.partition: p.end_offset for p in plan.ranges}

    single = stack.ingest(start, end)
    assert counts(single) == counts(result)
    assert stack.objects() == mapped_objects and stack.etags() == mapped_etags
    parts = [k for k in mapped_objects if k.startswith(layout.part_manifest_prefix(TABLE, end))]
    assert len(parts) == 3


def test_grouped_partitions_write_the_same_bytes(stack, window):
    start, end, _ = window
    reference = stack.ingest(start, end)
    objects = stack.objects()
    grouped = IngestOptions(grace_seconds=60, kafka_timeout=10, max_ingest_tasks=2)
    plan = plan_for(stack, start, end, grouped)
    assert len(plan.tasks) == 2 and sorted(p for t in plan.tasks for p in t) == [0, 1, 2]
    result = mapped(stack, start, end, grouped)
    assert counts(result) == counts(reference)
    assert stack.objects() == objects


def test_a_failed_partition_blocks_the_seal_and_its_retry_completes_the_window(stack, window):
    start, end, inside = window
    small = IngestOptions(grace_seconds=60, kafka_timeout=10, chunk_size=20)
    plan = plan_for(stack, start, end, small)
    work = plan.work()
    run_task(stack, work[0], small)
    with pytest.raises(ConnectionError, match="injected"):
        run_task(stack, work[1], small, s3=FailingS3(stack.s3, fail_on=3))
    run_task(stack, work[2], small)

    with pytest.raises(SealError, match=r"no part manifest for partition\(s\) \[1\]"):
        seal(stack, plan, small)
    assert read_manifest(stack.s3, stack.bucket, layout.manifest_key(TABLE, end)) is None
    assert stack.committed() == {0: -1001, 1: -1001, 2: -1001}, "nothing is committed before the seal"

    untouched = {k: v for k, v in stack.objects().items() if layout.parse_key(k) and layout.parse_key(k).partition != 1}
    run_task(stack, work[1], small)  # the retry of that one task
    result = seal(stack, plan, small)
    assert result.rows_out == 300
    assert actual_rows(stack.table()) == expected_rows(inside)
    assert all(stack.objects()[k] == v for k, v in untouched.items()), "other partitions were not rewritten"

    after_retry = stack.objects()
    stack.ingest(start, end, small)  # the one-process path reproduces the retried window byte for byte
    assert stack.objects() == after_retry


def test_clearing_the_seal_rewrites_the_same_manifest_and_commits_nothing_new(stack, window):
    start, end, _ = window
    plan = plan_for(stack, start, end)
    for item in plan.work():
        run_task(stack, item)
    first = seal(stack, plan)
    objects, etags, committed = stack.objects(), stack.etags(), stack.committed()
    again = seal(stack, plan)  # a clear of seal_window
    assert stack.objects() == objects and stack.etags() == etags
    assert again.committed == {} and first.committed == committed == {r.partition: r.end_offset for r in plan.ranges}
    assert stack.committed() == committed


def test_seal_refuses_a_missing_object_an_unlisted_duplicate_and_a_part_of_another_plan(stack, window):
    start, end, _ = window
    plan = plan_for(stack, start, end)
    for item in plan.work():
        run_task(stack, item)
    data = sorted(k for k in stack.objects("raw/") if layout.parse_key(k).partition == 0)

    body = stack.s3.get_object(Bucket=stack.bucket, Key=data[0])["Body"].read()
    stack.s3.delete_object(Bucket=stack.bucket, Key=data[0])
    with pytest.raises(SealError, match=re.escape(f"missing {data[0]}")):
        seal(stack, plan)
    stack.s3.put_object(Bucket=stack.bucket, Key=data[0], Body=body)

    parsed = layout.parse_key(data[0])
    duplicate = layout.data_key(
        TABLE, stack.topic, 0, parsed.first_offset, parsed.first_offset, dt=parsed.dt, hour=parsed.hour
    )
    stack.s3.put_object(Bucket=stack.bucket, Key=duplicate, Body=body)
    with pytest.raises(SealError, match="inside partition 0's window offsets but is in no part"):
        seal(stack, plan)
    stack.s3.delete_object(Bucket=stack.bucket, Key=duplicate)

    shifted = tuple(replace(r, start_offset=r.start_offset + 1) if r.partition == 2 else r for r in plan.ranges)
    other = replace(plan, ranges=shifted)
    with pytest.raises(SealError, match=r"part of partition 2 .* another plan"):
        seal(stack, other)
    assert read_manifest(stack.s3, stack.bucket, layout.manifest_key(TABLE, end)) is None
    assert seal(stack, plan).rows_out == 300


def test_a_partition_rerun_with_another_chunk_size_replaces_only_its_own_objects(stack, window):
    start, end, inside = window
    plan = plan_for(stack, start, end)
    for item in plan.work():
        run_task(stack, item, IngestOptions(grace_seconds=60, kafka_timeout=10, chunk_size=10))
    before = stack.objects("raw/")
    (result,) = run_task(stack, plan.work()[1], FAST)  # partition 1 again, one chunk
    after = stack.objects("raw/")
    gone = set(before) - set(after)
    assert result.stale_objects_deleted == len(gone) > 0
    assert {layout.parse_key(k).partition for k in gone} == {1}
    assert seal(stack, plan).rows_out == 300
    assert actual_rows(stack.table()) == expected_rows(inside)


def test_bad_share_is_judged_by_the_seal_after_every_partition_wrote(stack):
    delivered, _ = produce_with_bad(stack)
    close_windows(stack)
    start, end = window_around(delivered)
    plan = plan_for(stack, start, end)
    results = [r for item in plan.work() for r in run_task(stack, item)]
    assert sum(r.part.partition.dlq for r in results) == 8
    with pytest.raises(BadShareExceededError, match="8 of 100"):
        seal(stack, plan)
    manifest = read_manifest(stack.s3, stack.bucket, layout.manifest_key(TABLE, end))
    assert manifest is not None and manifest.status == "bad_share_exceeded" and manifest.rows_out == 92
