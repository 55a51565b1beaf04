"""The ingest DAG's three tasks, adapted from the library: clients from the connections, Params to options.

Each function turns Airflow's arguments into library arguments, maps only the errors a retry cannot
fix to ``AirflowFailException`` (an expired window, a bad share above the limit, parts that do not
match the plan), closes the consumer it opened and returns a JSON summary (the XCom).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from market_pipeline.ingest.kafka_window import WindowExpiredError
from market_pipeline.ingest.options import IngestOptions
from market_pipeline.schema import TickContract
from market_pipeline.settings import PipelineSettings


def options_from(settings: PipelineSettings, params: dict[str, Any]) -> IngestOptions:
    """The DAG's Params and the tick contract's settings as library options (the rest keep their defaults)."""
    return IngestOptions(
        grace_seconds=params["grace_seconds"],
        max_bad_share=params["max_bad_share"],
        chunk_size=params["chunk_size"],
        max_ingest_tasks=params["max_ingest_tasks"],
        contract=TickContract.from_settings(settings),
    )


@contextmanager
def window_consumer(settings: PipelineSettings) -> Iterator[Any]:
    """An unsubscribed, non-committing consumer of the pipeline's group, closed on the way out."""
    from pipeline_airflow.kafka import WindowConsumerHook

    consumer = WindowConsumerHook(
        topics=[settings.topic], kafka_config_id=settings.kafka_conn_id, group_id=settings.consumer_group
    ).get_window_consumer()
    try:
        yield consumer
    finally:
        consumer.close()


def s3_client(settings: PipelineSettings) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=settings.aws_conn_id).get_conn()


def plan(
    settings: PipelineSettings, params: dict[str, Any], start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """plan_window: one work item per ingest task (together they are the plan; the seal rebuilds it)."""
    from market_pipeline.ingest.plan import plan_window
    from pipeline_airflow.kafka import admin_client

    if start is None or end is None or start >= end:
        raise AirflowFailException(
            "this run has no data interval; trigger it with a logical date (each run owns one interval)"
        )
    with window_consumer(settings) as consumer:
        try:
            window_plan = plan_window(
                consumer,
                s3_client(settings),
                bucket=settings.bucket,
                table=settings.table,
                topic=settings.topic,
                window_start=start,
                window_end=end,
                options=options_from(settings, params),
                admin=admin_client(settings.kafka_conn_id),  # the topic's retention, read from the broker
            )
        except WindowExpiredError as exc:
            raise AirflowFailException(str(exc)) from exc  # a retry would do the same again
    return window_plan.work()


def ingest(settings: PipelineSettings, params: dict[str, Any], work: dict[str, Any]) -> list[dict[str, Any]]:
    """ingest_partition: one work item's partitions; a summary per partition."""
    from market_pipeline.ingest.partition import ingest_partitions
    from market_pipeline.ingest.plan import PartitionWork

    item = PartitionWork.from_dict(work)
    with window_consumer(settings) as consumer:
        try:
            results = ingest_partitions(
                consumer, s3_client(settings), bucket=settings.bucket, work=item, options=options_from(settings, params)
            )
        except WindowExpiredError as exc:
            raise AirflowFailException(str(exc)) from exc
    return [r.to_dict() for r in results]


def work_label(work: dict[str, Any]) -> str:
    """The map index's name in the UI: the partitions a task reads (``p3``, ``p0,p4``)."""
    from market_pipeline.ingest.plan import PartitionWork

    return PartitionWork.from_dict(work).label


def seal(
    settings: PipelineSettings,
    params: dict[str, Any],
    work: list[dict[str, Any]],
    parts: Iterable[list[dict[str, Any]]],
) -> dict[str, Any]:
    """seal_window: the window's summary (also the asset event's extra)."""
    from market_pipeline.ingest.plan import WindowPlan
    from market_pipeline.ingest.seal import BadShareExceededError, SealError, seal_window, window_decode_mode

    written = [p for task in parts or [] for p in task]
    stale = sum(p.get("stale_objects_deleted", 0) for p in written)
    with window_consumer(settings) as consumer:
        try:
            result = seal_window(
                consumer,
                s3_client(settings),
                bucket=settings.bucket,
                plan=WindowPlan.from_work(list(work)),
                options=options_from(settings, params),
                stale_objects_deleted=stale,
                decode_mode=window_decode_mode([p.get("decode_mode", "fast") for p in written]),
            )
        except (BadShareExceededError, SealError) as exc:
            raise AirflowFailException(str(exc)) from exc  # the seal again would fail the same way
    return result.to_dict()
