"""One ingest interval as the catalog sees it: its manifests, the partitions they wrote, and a guarantee
that those partitions are in the Glue catalog before Athena counts them.

Partition values are re-derived from validated manifest data before they reach SQL.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from typing import Any

from market_pipeline import layout
from market_pipeline.catalog.sql_names import checked_identifier
from market_pipeline.manifest import list_manifests
from market_pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

_DT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def partition_predicate(partitions: list[tuple[str, str]]) -> str:
    """A WHERE fragment selecting exactly these (dt, hour) Hive partitions; false for none."""
    clauses = []
    for dt, hour in sorted(set(partitions)):
        if not _DT.match(dt) or not (hour.isdigit() and len(hour) == 2 and int(hour) < 24):
            raise ValueError(f"invalid partition dt={dt!r} hour={hour!r}")
        clauses.append(f"(dt = '{dt}' AND \"hour\" = '{hour}')")
    return " OR ".join(clauses) if clauses else "1 = 0"


def interval_summary(s3: Any, settings: PipelineSettings, start: datetime, end: datetime) -> dict[str, Any]:
    """The manifests of the ingest windows inside [start, end), summarised for SQL and the report."""
    manifests = list_manifests(s3, settings.bucket, settings.table, start, end)
    partitions = sorted(
        {(obj.dt, f"{obj.hour:02d}") for m in manifests for obj in m.data_objects if obj.hour is not None}
    )
    return {
        "interval_start": layout.format_instant(start),
        "interval_end": layout.format_instant(end),
        "windows": [m.key for m in manifests],
        "messages": sum(m.messages_in for m in manifests),
        "rows": sum(m.rows_out for m in manifests),
        "dlq": sum(m.dlq_count for m in manifests),
        "objects": sum(len(m.data_objects) for m in manifests),
        "partitions": [list(p) for p in partitions],
        "partition_predicate": partition_predicate(partitions),
    }


def ensure_partitions_cataloged(
    glue: Any,
    settings: PipelineSettings,
    partitions: list[list[str]] | list[tuple[str, str]],
    timeout: float = 900.0,
    poll: float = 5.0,
) -> dict[str, Any]:
    """Make sure the crawler has registered every partition the interval wrote to.

    A crawl that another run started before this interval's objects existed can finish without them
    (the crawler operator waits for a running crawl instead of starting one). Missing partitions get
    one more crawl, so the row-count check never fails for a catalog race.
    """
    database = checked_identifier(settings.glue_database)
    table = checked_identifier(settings.table)
    wanted = [tuple(p) for p in partitions]
    deadline = time.monotonic() + timeout
    crawls = 0
    while True:
        missing = [p for p in wanted if not _has_partition(glue, database, table, p)]
        if not missing:
            return {"partitions": len(wanted), "extra_crawls": crawls}
        if time.monotonic() > deadline:
            raise TimeoutError(f"partitions {missing} of {database}.{table} still not cataloged after {timeout:.0f}s")
        state = glue.get_crawler(Name=settings.crawler)["Crawler"]["State"]
        if state == "READY":
            log.info("partitions %s not cataloged yet; starting crawler %s again", missing, settings.crawler)
            try:
                glue.start_crawler(Name=settings.crawler)
                crawls += 1
            except glue.exceptions.CrawlerRunningException:
                pass
        time.sleep(poll)


def _has_partition(glue: Any, database: str, table: str, partition: tuple[str, ...]) -> bool:
    try:
        glue.get_partition(DatabaseName=database, TableName=table, PartitionValues=list(partition))
        return True
    except glue.exceptions.EntityNotFoundException:
        return False
