"""What the catalog DAG needs to query one ingest interval: names for SQL templates, the interval's
manifests and partitions, and a guarantee that those partitions are in the Glue catalog.

SQL never receives raw Param or environment text: identifiers are checked against a strict pattern,
and partition values are re-derived from validated manifest data.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from market_pipeline.manifest import list_manifests
from market_pipeline.schema import hive_columns
from market_pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("sql")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def checked_identifier(name: str) -> str:
    """A Glue/Athena identifier safe to place in SQL unquoted (Glue lowercases names anyway)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a valid Glue/Athena identifier (lowercase letters, digits, _)")
    return name


@dataclass(frozen=True)
class LakeSql:
    """The `lake` object SQL templates see: validated names and interval formatting helpers."""

    database: str
    table: str
    bars_table: str
    bucket: str
    bars_prefix: str
    raw_prefix: str

    @classmethod
    def from_settings(cls, settings: PipelineSettings) -> LakeSql:
        if not _BUCKET.match(settings.bucket):
            raise ValueError(f"{settings.bucket!r} is not a valid S3 bucket name")
        return cls(
            database=checked_identifier(settings.glue_database),
            table=checked_identifier(settings.table),
            bars_table=checked_identifier(settings.bars_table),
            bucket=settings.bucket,
            bars_prefix=settings.curated_prefix,
            raw_prefix=settings.raw_prefix,
        )

    @staticmethod
    def raw_columns() -> list[tuple[str, str]]:
        return hive_columns()

    def qualified(self, table: str) -> str:
        return f"{self.database}.{checked_identifier(table)}"

    @staticmethod
    def ts(moment: datetime) -> str:
        """A Trino TIMESTAMP literal body in UTC, e.g. 2026-11-25 10:05:00.000."""
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"

    @staticmethod
    def dt(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d")

    @staticmethod
    def hour(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%H")

    @staticmethod
    def window(moment: datetime) -> str:
        """The bars partition of an interval: HHMM of its start."""
        return moment.astimezone(UTC).strftime("%H%M")


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
        "interval_start": start.astimezone(UTC).isoformat(),
        "interval_end": end.astimezone(UTC).isoformat(),
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


def first_row(result: dict[str, Any]) -> dict[str, Any] | None:
    """The first data row of an Athena GetQueryResults response, keyed by column name (values as text)."""
    columns = [c["Name"] for c in result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    rows = result["ResultSet"]["Rows"]
    # The first row of a SELECT's results repeats the column names.
    data = rows[1:] if rows and [d.get("VarCharValue") for d in rows[0]["Data"]] == columns else rows
    if not data:
        return None
    return {name: cell.get("VarCharValue") for name, cell in zip(columns, data[0]["Data"], strict=False)}
