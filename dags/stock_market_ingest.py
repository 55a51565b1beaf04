"""
# Stock market: ingest

**Schedule:** every `PIPELINE_INTERVAL_MINUTES` minutes (5 by default), `CronDataIntervalTimetable` in UTC,
shared with the catalog DAG, from `PIPELINE_START_DATE` on: **every interval gets a run** (catchup), also
the ones that passed while the stack was stopped, oldest first, at most 2 runs at once.

The run for `[data_interval_start, data_interval_end)` reads **exactly** the messages of the topic
(`PIPELINE_TOPIC`) whose broker timestamp (LogAppendTime) lies in that interval, on every partition, and
writes them to the bucket (`PIPELINE_BUCKET`; keys from `market_pipeline/layout.py`). Kafka's unit of
parallelism is the partition, and so is the run's:

1. **`plan_window`** waits until the window is closed, resolves every partition's exact offset range
   and spreads the partitions over at most `max_ingest_tasks` tasks (one each when they fit);
2. **`ingest_partition`** (mapped: one task per partition or group of partitions, on any worker, in
   any order) writes its partitions' objects, then one part manifest per partition;
3. **`seal_window`** checks every part against the plan and S3, writes the window manifest **last**,
   commits the end offsets for the consumer group (`PIPELINE_CONSUMER_GROUP`; lag shows in Kafka
   tools; a backfill never moves the group backwards) and emits the raw-ticks Asset event whose extra
   holds the window's counts.

| what | where |
|---|---|
| ticks (Parquet, zstd, fixed schema) | `raw/<table>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first offset>+<last offset>.parquet` (dt/hour from the tick's event_time) |
| bad messages with raw bytes, partition, offset, broker time, reason | `dlq/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first>+<last>.parquet` |
| one partition's share of the window (before the seal) | `_parts/<table>/<data_interval_end>/<topic>+<partition>.json` |
| the window's manifest, written **last** | `_manifests/<table>/<data_interval_end, e.g. 2026-11-25T10:05:00Z>.json` |

**Exactly once.** Object keys come only from data (topic, partition, offsets, event hour) and the bytes
carry no wall-clock time, so a retry of one partition's task, a clear of the seal, a clear of the whole
run or a backfill overwrites the same objects with the same bytes, whichever worker runs which task.
A failure before the seal leaves no manifest; the retry completes the window.

**When it fails on purpose.** The window is still open (its end + `grace_seconds` is in the future and not
every partition has a later message); Kafka does not answer (bounded timeouts; retried); messages of the
window were deleted by retention (decided by `plan_window` from the topic's retention read from the
broker and from earlier manifests; never an empty success, not retried); a part is missing or does not
match the plan (the seal says which partition to rerun); the share of bad messages is above
`max_bad_share` (everything is written first, then the seal fails without retrying, so someone looks at
the dead letters). Messages breaking the tick contract (README) go to the dead letters with a reason.

**A crashed attempt.** Each `ingest_partition` task marks its partitions under `_attempts/` before
reading. If it dies without reporting an error (a native crash, a kill), the marks stay; the retry of
that task decodes those partitions with the Python decoder alone (slower, same bytes). Other
partitions' tasks are unaffected.

**Params**
- `grace_seconds`: how long after the interval end to wait for stragglers when a partition has no later message.
- `max_bad_share`: the share of dead-lettered messages above which the run fails (after writing).
- `chunk_size`: Kafka offsets per partition per object; bounds memory. Changing it and rerunning a window
  replaces that window's objects (old keys inside the window's offsets are deleted).
- `max_ingest_tasks`: at most this many `ingest_partition` tasks per window; more partitions share tasks
  (balanced by messages). The tasks run in the `PIPELINE_INGEST_POOL` pool (`default_pool` unless set).

**Backfill / rerun.** Clear a run (or a range of runs) in the UI, or
`airflow backfill create --dag-id stock_market_ingest --from-date 2026-11-25T09:00 --to-date 2026-11-25T10:00 --reprocess-behavior completed`.
Each window is rewritten identically. Windows older than the topic's retention fail clearly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, get_current_context, task

from market_pipeline.settings import load_settings
from pipeline_airflow import assets, defaults

settings = load_settings()
RAW_TICKS = assets.raw_ticks(settings)


with DAG(
    dag_id="stock_market_ingest",
    description="Kafka -> S3 Parquet, one exactly-once micro-batch per data interval, one task per partition",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable(settings.interval_cron, timezone="UTC"),
    start_date=settings.start_date,
    # Every interval since the pipeline started gets a run, even after a stop: no gaps (README: Operations).
    catchup=True,
    max_active_runs=2,
    default_args=defaults.default_args(settings),
    tags=[*defaults.TAGS, "ingest"],
    params={
        "grace_seconds": Param(
            30,
            type="integer",
            minimum=0,
            maximum=600,
            description="Seconds after the interval end to wait for late appends when a partition has no later message.",
        ),
        "max_bad_share": Param(
            0.01,
            type="number",
            minimum=0,
            maximum=1,
            description="Fail the run (after writing everything) when more than this share of messages is dead-lettered.",
        ),
        "chunk_size": Param(
            100_000,
            type="integer",
            minimum=1_000,
            maximum=200_000,
            description="Kafka offsets per partition per Parquet object; bounds memory (about 1 GB at 100,000).",
        ),
        "max_ingest_tasks": Param(
            settings.max_ingest_tasks,
            type="integer",
            minimum=1,
            maximum=1024,
            description="At most this many parallel ingest_partition tasks per window; more partitions share tasks.",
        ),
    },
) as dag:

    @task(execution_timeout=timedelta(minutes=15))
    def plan_window(
        params: dict | None = None,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> list[dict]:
        """Wait until the interval is closed; one work item (partitions and exact offsets) per ingest task."""
        from pipeline_airflow import ingest

        assert params is not None
        return ingest.plan(settings, params, data_interval_start, data_interval_end)

    @task(pool=settings.ingest_pool, execution_timeout=timedelta(minutes=30), map_index_template="{{ partitions }}")
    def ingest_partition(work: dict, params: dict | None = None) -> list[dict]:
        """Write some partitions' objects and part manifests (one mapped task per work item)."""
        from pipeline_airflow import ingest

        assert params is not None
        get_current_context()["partitions"] = ingest.work_label(work)  # type: ignore[typeddict-unknown-key]
        return ingest.ingest(settings, params, work)

    @task(outlets=[RAW_TICKS], execution_timeout=timedelta(minutes=10))
    def seal_window(work: list[dict], parts: list[list[dict]], params: dict | None = None, outlet_events=None) -> dict:
        """Check every part, write the window manifest, commit the offsets; the summary is the asset event's extra."""
        from pipeline_airflow import ingest

        assert params is not None and outlet_events is not None
        summary = ingest.seal(settings, params, work, parts)
        outlet_events[RAW_TICKS].extra = summary
        return summary

    planned = plan_window()
    written = ingest_partition.expand(work=planned)
    seal_window(work=planned, parts=written)
