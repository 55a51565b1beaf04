"""Ingest one broker-time window in one process: plan, every partition, seal (the library's one-call path).

The ingest DAG runs the same three steps as separate tasks (``plan_window`` → ``ingest_partition``
mapped over the plan's tasks → ``seal_window``), so partitions are read by independent workers. This
function runs them back to back with one consumer, reading all partitions in one pass; it writes the
very same objects, part manifests and window manifest (the tests and the benchmark compare both).

A failure anywhere before the seal leaves no window manifest; the retry rewrites the same keys with
the same bytes, so nothing is duplicated. As in the DAG, the plan judges deleted offsets from the
topic's retention (read with `admin`) and the manifests, and each partition marks its attempt so that
a retry after a crash decodes it safely (see :mod:`market_pipeline.ingest.partition`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from market_pipeline.ingest.kafka_window import WindowConsumer
from market_pipeline.ingest.options import IngestOptions
from market_pipeline.ingest.partition import ingest_partitions
from market_pipeline.ingest.plan import PartitionWork, plan_window
from market_pipeline.ingest.seal import BadShareExceededError, WindowResult, seal_window, window_decode_mode

__all__ = ["BadShareExceededError", "IngestOptions", "WindowResult", "ingest_window"]

log = logging.getLogger(__name__)


def ingest_window(
    consumer: WindowConsumer,
    s3: Any,
    *,
    bucket: str,
    table: str,
    topic: str,
    window_start: datetime,
    window_end: datetime,
    options: IngestOptions | None = None,
    clock: Callable[[], float] = time.time,
    admin: Any | None = None,
) -> WindowResult:
    """Ingest the messages with broker timestamps in [window_start, window_end); see the module doc.

    `admin` (a confluent AdminClient) lets the run read the topic's retention from the broker.
    """
    opts = options or IngestOptions()
    began = time.monotonic()
    plan = plan_window(
        consumer,
        s3,
        bucket=bucket,
        table=table,
        topic=topic,
        window_start=window_start,
        window_end=window_end,
        options=opts,
        admin=admin,
        clock=clock,
    )
    log.info("window %s: %d messages on %d partitions", plan.label, plan.messages, len(plan.ranges))
    work = PartitionWork(table, topic, plan.window, plan.ranges)
    results = ingest_partitions(consumer, s3, bucket=bucket, work=work, options=opts)
    return seal_window(
        consumer,
        s3,
        bucket=bucket,
        plan=plan,
        options=opts,
        stale_objects_deleted=sum(r.stale_objects_deleted for r in results),
        seconds=time.monotonic() - began,
        decode_mode=window_decode_mode([r.decode_mode for r in results]),
    )
