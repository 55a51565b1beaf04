"""
# Stock market: ingest

**Schedule:** every `PIPELINE_INTERVAL_MINUTES` minutes (5 by default), `CronDataIntervalTimetable` in UTC,
shared with the catalog DAG, from `PIPELINE_START_DATE` on: **every interval gets a run** (catchup), also
the ones that passed while the stack was stopped, oldest first, at most 2 runs at once.

The run for `[data_interval_start, data_interval_end)` reads **exactly** the messages of the topic
(`PIPELINE_TOPIC`) whose broker timestamp (LogAppendTime) lies in that interval, on every partition, and
writes them to the bucket (`PIPELINE_BUCKET`; keys from `market_pipeline/layout.py`):

| what | where |
|---|---|
| ticks (Parquet, zstd, fixed schema) | `raw/<table>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first offset>+<last offset>.parquet` (dt/hour from the tick's event_time) |
| bad messages with raw bytes, partition, offset, broker time, reason | `dlq/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first>+<last>.parquet` |
| the window's manifest, written **last** | `_manifests/<table>/<data_interval_end, e.g. 2026-11-25T10:05:00Z>.json` |

Then the window's end offsets are committed for the consumer group (`PIPELINE_CONSUMER_GROUP`; lag
shows in Kafka tools; a backfill never moves the group backwards), and the raw-ticks Asset gets an event
whose extra holds the window's counts.

**Exactly once.** Object keys come only from data (topic, partition, offsets, event hour) and the bytes
carry no wall-clock time, so a retry, a clear or a backfill overwrites the same objects with the same
bytes. A failure before the manifest leaves no manifest; the retry completes the window.

**When it fails on purpose.** The window is still open (its end + `grace_seconds` is in the future and not
every partition has a later message); Kafka does not answer (bounded timeouts; retried); messages of the
window were deleted by retention (decided from the topic's retention read from the broker and from
earlier manifests; never an empty success, not retried); the share of bad messages is above
`max_bad_share` (everything is written first, then the run fails without retrying, so someone looks at
the dead letters). Messages breaking the tick contract (README) go to the dead letters with a reason.

**A crashed attempt.** If an attempt dies without reporting an error (a native crash, a kill), its
marker under `_attempts/` stays; the retry decodes with the Python decoder alone (slower, same bytes).

**Params**
- `grace_seconds`: how long after the interval end to wait for stragglers when a partition has no later message.
- `max_bad_share`: the share of dead-lettered messages above which the run fails (after writing).
- `chunk_size`: Kafka offsets per partition per object; bounds memory. Changing it and rerunning a window
  replaces that window's objects (old keys inside the window's offsets are deleted).

**Backfill / rerun.** Clear a run (or a range of runs) in the UI, or
`airflow backfill create --dag-id stock_market_ingest --from-date 2026-11-25T09:00 --to-date 2026-11-25T10:00 --reprocess-behavior completed`.
Each window is rewritten identically. Windows older than the topic's retention fail clearly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task

from market_pipeline.settings import load_settings
from pipeline_airflow import assets, defaults

settings = load_settings()
RAW_TICKS = assets.raw_ticks(settings)


with DAG(
    dag_id="stock_market_ingest",
    description="Kafka -> S3 Parquet, one exactly-once micro-batch per data interval",
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
    },
) as dag:

    @task(outlets=[RAW_TICKS], execution_timeout=timedelta(minutes=30))
    def ingest_window(
        params: dict | None = None,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        outlet_events=None,
    ) -> dict:
        """Ingest the run's data interval; the summary is the XCom and the asset event's extra."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.sdk.exceptions import AirflowFailException

        from market_pipeline.ingest.kafka_window import WindowExpiredError
        from market_pipeline.ingest.run import BadShareExceededError, IngestOptions
        from market_pipeline.ingest.run import ingest_window as run_window
        from market_pipeline.schema import TickContract
        from pipeline_airflow.kafka import WindowConsumerHook, admin_client

        assert params is not None and outlet_events is not None
        if data_interval_start is None or data_interval_end is None or data_interval_start >= data_interval_end:
            raise AirflowFailException(
                "this run has no data interval; trigger it with a logical date (each run owns one interval)"
            )
        options = IngestOptions(
            grace_seconds=params["grace_seconds"],
            max_bad_share=params["max_bad_share"],
            chunk_size=params["chunk_size"],
            contract=TickContract.from_settings(settings),
        )
        consumer = WindowConsumerHook(
            topics=[settings.topic], kafka_config_id=settings.kafka_conn_id, group_id=settings.consumer_group
        ).get_window_consumer()
        try:
            result = run_window(
                consumer,
                S3Hook(aws_conn_id=settings.aws_conn_id).get_conn(),
                bucket=settings.bucket,
                table=settings.table,
                topic=settings.topic,
                window_start=data_interval_start,
                window_end=data_interval_end,
                options=options,
                admin=admin_client(settings.kafka_conn_id),  # the topic's retention, read from the broker
            )
        except (BadShareExceededError, WindowExpiredError) as exc:
            raise AirflowFailException(str(exc)) from exc  # a retry would do the same again
        finally:
            consumer.close()
        summary = result.to_dict()
        outlet_events[RAW_TICKS].extra = summary
        return summary

    ingest_window()
