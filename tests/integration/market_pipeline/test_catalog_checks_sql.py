"""The data checks' generated SQL on the local Athena: every gate and the stats row count what the check means.

Each test writes an interval's rows with the real decoder and Parquet writer, plants known faults, and
runs the SQL the catalog DAG would run (the registry's gates and validation_stats, rendered as Airflow
renders them). The expected numbers follow from each check's definition and the planted faults, worked
out by hand below, never from the query's own output.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import jinja2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from market_pipeline import layout
from market_pipeline.catalog import checks
from market_pipeline.catalog.interval import partition_predicate
from market_pipeline.catalog.query_results import first_row
from market_pipeline.catalog.sql_names import SQL_DIR, LakeSql
from market_pipeline.ingest.decode import decode_batch
from market_pipeline.ingest.kafka_window import Chunk
from market_pipeline.ingest.parquet import write_part, write_rows
from market_pipeline.settings import PipelineSettings
from market_pipeline.setup.aws_resources import ensure_glue_database, ensure_workgroup
from tests.support import wait_for
from tests.ticks import encode, make_ticks

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=5)
FRESHNESS_MINUTES = 15  # the newest tick must be at or after 09:45:00


class Lake:
    """One fresh bucket, Glue database, workgroup and raw table; runs SQL as the catalog DAG renders it."""

    def __init__(self, boto_client: Any, bucket: str) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.settings = PipelineSettings(
            bucket=bucket, glue_database=f"checks_{suffix}", athena_workgroup=f"checks_{suffix}", table="ticks"
        )
        self.s3, self.athena = boto_client("s3"), boto_client("athena")
        ensure_glue_database(boto_client("glue"), self.settings)
        ensure_workgroup(self.athena, self.settings)
        self.written_rows = 0
        self.run(self.render("{% include 'create_raw_table.sql' %}", []))

    def write(self, rows: pa.Table, partition: int, *, folder_hour: int | None = None) -> None:
        """Write rows with the pipeline's writer; `folder_hour` puts them under another hour's folder."""
        if folder_hour is None:
            entries = write_rows(self.s3, self.settings.bucket, "ticks", "topic", partition, rows)
        else:
            key_for = partial(layout.data_key, "ticks", "topic", partition, dt="2026-11-25", hour=folder_hour)
            entries = [
                write_part(self.s3, self.settings.bucket, rows, "data", partition, "2026-11-25", folder_hour, key_for)
            ]
        self.written_rows += sum(e.rows for e in entries)

    def render(self, template: str, partitions: list[tuple[str, str]]) -> str:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(SQL_DIR)), undefined=jinja2.StrictUndefined)
        predicate = partition_predicate(partitions)

        class TaskInstance:
            def xcom_pull(self, task_ids: str) -> dict[str, Any]:
                return {"partition_predicate": predicate}

        return env.from_string(template).render(
            lake=LakeSql.from_settings(self.settings),
            data_interval_start=START,
            data_interval_end=END,
            params={"freshness_minutes": FRESHNESS_MINUTES},
            ti=TaskInstance(),
        )

    def run(self, sql: str) -> dict[str, str | None] | None:
        qid = self.athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": self.settings.glue_database},
            WorkGroup=self.settings.athena_workgroup,
        )["QueryExecutionId"]
        state = wait_for(lambda: self._final_state(qid), timeout=60, what=f"Athena query {qid}", interval=0.05)
        assert state["State"] == "SUCCEEDED", (state, sql)
        return first_row(self.athena.get_query_results(QueryExecutionId=qid))

    def _final_state(self, qid: str) -> dict[str, Any] | None:
        status = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        return status if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    def numbers(self, partitions: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
        """(each gate's number, the stats row's numbers), by check column."""
        self.run(f"MSCK REPAIR TABLE {self.settings.glue_database}.ticks")
        gates = {}
        for check in checks.registered():
            row = self.run(self.render(checks.gate_sql(check), partitions))
            assert row is not None and len(row) == 1, row
            gates[check.column] = int(next(iter(row.values())))
        stats = self.run(self.render(checks.stats_sql(), partitions))
        assert stats is not None
        return gates, {c.column: int(stats[c.column]) for c in checks.registered()}


def rows(count: int, partition: int, first_event: datetime, *, seed: int = 0) -> pa.Table:
    """`count` simulated ticks one second apart from `first_event`, appended at 10:01:00.000 + 10 ms each."""
    values = [encode(t) for t in make_ticks(count, first_event, step=timedelta(seconds=1), seed=seed)]
    appended_ms = int((START + timedelta(minutes=1)).timestamp() * 1000) + 10 * np.arange(count, dtype=np.int64)
    offsets = np.arange(count, dtype=np.int64)
    decoded = decode_batch(Chunk(partition, 0, count, values, None, offsets, appended_ms))
    assert decoded.dlq.num_rows == 0
    return decoded.rows


def replace(table: pa.Table, column: str, index: list[int], value: float) -> pa.Table:
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[index] = True
    updated = pc.if_else(pa.array(mask), pa.scalar(value, pa.float64()), table[column])
    return table.set_column(table.schema.get_field_index(column), column, updated)


@pytest.fixture
def lake(boto_client, s3_bucket) -> Lake:
    return Lake(boto_client, s3_bucket)


def test_a_clean_interval_passes_every_check(lake):
    lake.write(rows(12, partition=0, first_event=START + timedelta(minutes=1)), partition=0)

    gates, stats = lake.numbers([("2026-11-25", "10")])

    # 12 rows written, none bad; the newest tick (10:01:11) is after 09:45:00, so fresh.
    expected = {c.column: 0 for c in checks.registered()} | {"row_count": 12}
    assert lake.written_rows == 12
    assert gates == stats == expected


def test_planted_faults_are_counted_by_their_checks(lake):
    base = rows(10, partition=0, first_event=START + timedelta(minutes=1))  # offsets 0..9, hour 10
    base = replace(base, "bid", [1, 2], 10_000.0)  # bid above any ask: 2 crossed quotes
    base = replace(base, "price", [3], 0.0)  # 1 non-positive price
    lake.write(base, partition=0)
    lake.write(base.slice(8, 2), partition=0)  # offsets 8 and 9 stored a second time: 2 duplicated pairs
    misplaced = rows(3, partition=1, first_event=START + timedelta(minutes=2), seed=1)  # 10:02 ticks...
    lake.write(misplaced, partition=1, folder_hour=9)  # ...in the hour=09 folder: 3 outside their partition

    gates, stats = lake.numbers([("2026-11-25", "10"), ("2026-11-25", "09")])

    assert (
        gates
        == stats
        == {
            "row_count": 10 + 2 + 3,
            "duplicate_offsets": 2,
            "null_symbol_or_price": 0,
            "non_positive_price": 1,
            "bid_above_ask": 2,
            "outside_partition": 3,
            "stale_seconds": 0,
        }
    )


def test_stale_ticks_fail_freshness_by_the_seconds_they_are_late(lake):
    # Ticks stamped 09:40:00..09:40:04 but appended in the interval: the newest is 09:40:04, which is
    # 296 s before the allowed 09:45:00 (interval start minus 15 minutes).
    lake.write(rows(5, partition=0, first_event=START - timedelta(minutes=20)), partition=0)

    gates, stats = lake.numbers([("2026-11-25", "09")])

    assert gates["stale_seconds"] == stats["stale_seconds"] == 296
    assert gates["row_count"] == 5 and gates["outside_partition"] == 0


def test_an_empty_interval_is_fresh_and_counts_nothing(lake):
    gates, stats = lake.numbers([])
    assert gates == stats == {c.column: 0 for c in checks.registered()}
