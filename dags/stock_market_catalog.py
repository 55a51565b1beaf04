"""
# Stock market: catalog and validate

Crawls the raw ticks, validates each ingest interval with Athena and builds one-minute bars. For every
data interval `[data_interval_start, data_interval_end)`:

1. **wait_for_ingest** waits for the interval's ingest manifest, `_manifests/<table>/<interval end>.json`.
2. **crawl_raw** runs the Glue crawler (`PIPELINE_CRAWLER`; a crawl already running is waited for), then
   **ensure_partitions_cataloged** checks that every partition the interval wrote is in Glue.
3. **validation_stats** (AthenaOperator) computes every data check's number in one query; the
   **check_*** tasks (common.sql checks on Athena, one per check) fail the run when Athena's row count
   differs from the manifests (reconciliation: nothing lost, nothing doubled), or on duplicate
   `(kafka_partition, kafka_offset)`, null symbol/price, price <= 0, bid > ask, event times outside
   their `dt`/`hour` folder, or stale ticks. Checks, stats columns and report entries all come from one
   registry, `market_pipeline/catalog/checks.py`.
4. **build_bars** writes one-minute OHLCV bars (open, high, low, close, volume, VWAP, trade count) of
   the interval into the bars table `PIPELINE_BARS_TABLE` (partition `ingest_window`=HHMM, replaced on
   rerun); **check_bars_match_pandas** recomputes them with pandas from the raw rows.
5. **write_validation_report** writes `_reports/<table>/<interval end>.json` (also the task's result)
   with every check's expected and actual numbers, and fails the run if any check failed. It runs
   whatever happened before: when the manifest never came (the sensor timed out), the report says
   "no manifest: ingest did not complete" and lists objects of the interval's offsets that no
   manifest lists (a window that died half-written); such objects fail the report of a complete
   interval too, by key.

**Schedule:** the same data intervals as `stock_market_ingest` (`CronDataIntervalTimetable`, every
`PIPELINE_INTERVAL_MINUTES` minutes, 5 by default) from `PIPELINE_START_DATE`, **every one of them**
(catchup: a run that outlasts its interval, or a stopped stack, leaves a backlog that is worked off in
order, never skipped); it follows ingest by waiting for its manifest, and ingest's raw-ticks Asset is
this DAG's inlet (lineage). Two runs at a time at most; the Athena queries share the `athena` pool.

**Params:** `freshness_minutes` (how old the newest tick of an interval may be, relative to the
interval start) and `bars_rel_tolerance` (relative tolerance of the pandas cross-check).

**Backfill** the crawl and checks for past intervals (each run checks its own interval):

    airflow backfill create --dag-id stock_market_catalog \\
        --from-date 2026-11-25T10:00:00 --to-date 2026-11-25T11:00:00 --reprocess-behavior completed

or in the UI: *Trigger → Backfill*, choose the date range and "reprocess: all runs".
"""

from __future__ import annotations

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.s3 import S3DeleteObjectsOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.common.sql.operators.sql import SQLValueCheckOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, chain, task

from market_pipeline.catalog import checks
from market_pipeline.catalog.sql_names import SQL_DIR, LakeSql
from market_pipeline.settings import load_settings
from pipeline_airflow import assets, defaults

settings = load_settings()
# The rows the interval's manifests wrote: what the row-count gate must find.
MANIFEST_ROWS = "{{ ti.xcom_pull(task_ids='interval_manifests')['rows'] }}"
ATHENA = {
    "workgroup": settings.athena_workgroup,
    "database": settings.glue_database,
    "aws_conn_id": settings.aws_conn_id,
    "sleep_time": 2,
    "pool": defaults.ATHENA_POOL,
}

with DAG(
    dag_id="stock_market_catalog",
    description="Crawl raw ticks, reconcile and validate each interval with Athena, build 1-minute bars",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable(settings.interval_cron, timezone="UTC"),
    start_date=settings.start_date,
    # Every interval gets its run, however late (see the README's Operations: no gaps).
    catchup=True,
    # Two at a time, so a backlog shrinks although a run lasts about as long as a 1-minute interval: a
    # crawl already running is waited for, and a partition a concurrent crawl missed is crawled again.
    max_active_runs=2,
    default_args=defaults.default_args(settings),
    tags=[*defaults.TAGS, "glue", "athena", "validation"],
    template_searchpath=[str(SQL_DIR)],
    user_defined_macros={"lake": LakeSql.from_settings(settings)},
    params={
        "freshness_minutes": Param(
            15,
            type="integer",
            minimum=1,
            maximum=7 * 24 * 60,
            description="The newest tick of an interval may be at most this many minutes older than the interval start.",
        ),
        "bars_rel_tolerance": Param(
            1e-9,
            type="number",
            minimum=0,
            maximum=0.01,
            description="Relative tolerance when comparing Athena's bars with pandas' (floating-point sums).",
        ),
    },
) as dag:
    wait_for_ingest = S3KeySensor(
        task_id="wait_for_ingest",
        bucket_name=settings.bucket,
        bucket_key="{{ lake.manifest_key(data_interval_end) }}",
        aws_conn_id=settings.aws_conn_id,
        mode="reschedule",
        poke_interval=20,
        timeout=30 * 60,
        inlets=[assets.raw_ticks(settings)],
    )

    crawl_raw = GlueCrawlerRunOperator(
        task_id="crawl_raw",
        crawler_name=settings.crawler,
        aws_conn_id=settings.aws_conn_id,
        fail_on_already_running=False,
        wait_for_completion=True,
        poll_interval=5,
    )

    @task
    def interval_manifests(data_interval_start=None, data_interval_end=None) -> dict:
        """The interval's manifests: rows to expect and the partitions to query."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from market_pipeline.catalog.interval import interval_summary

        s3 = S3Hook(aws_conn_id=settings.aws_conn_id).get_conn()
        return interval_summary(s3, settings, data_interval_start, data_interval_end)

    @task
    def ensure_partitions_cataloged(summary: dict) -> dict:
        """Partitions the interval wrote, registered in Glue (one more crawl if a race left one out)."""
        from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook

        from market_pipeline.catalog import interval

        glue = GlueCrawlerHook(aws_conn_id=settings.aws_conn_id).glue_client
        return interval.ensure_partitions_cataloged(glue, settings, summary["partitions"])

    validation_stats = AthenaOperator(task_id="validation_stats", query=checks.stats_sql(), **ATHENA)

    # One gate per registered check: one Athena number each, 0 (or the manifests' rows) to pass.
    gates = [
        SQLValueCheckOperator(
            task_id=check.task_id,
            conn_id=settings.athena_conn_id,
            sql=checks.gate_sql(check),
            pass_value=MANIFEST_ROWS if check.expected == checks.MANIFEST_ROWS else 0,
            tolerance=0,
            pool=defaults.ATHENA_POOL,
        )
        for check in checks.registered()
    ]

    create_bars_table = AthenaOperator(task_id="create_bars_table", query="create_bars_table.sql", **ATHENA)
    clear_bars = S3DeleteObjectsOperator(
        task_id="clear_bars_partition",
        bucket=settings.bucket,
        prefix="{{ lake.bars_partition_prefix(data_interval_start) }}",
        aws_conn_id=settings.aws_conn_id,
    )
    build_bars = AthenaOperator(task_id="build_bars", query="insert_bars.sql", **ATHENA)

    @task(
        templates_dict={
            "trades_sql": "{% include 'select_interval_trades.sql' %}",
            "bars_sql": "{% include 'select_interval_bars.sql' %}",
        },
        pool=defaults.ATHENA_POOL,
    )
    def check_bars_match_pandas(templates_dict=None, params=None) -> dict:
        """Recompute the interval's bars with pandas from the raw trades and compare with Athena's."""
        from airflow.providers.amazon.aws.hooks.athena_sql import AthenaSQLHook
        from airflow.sdk.exceptions import AirflowFailException

        from market_pipeline.catalog.bars import compare_bars, compute_bars

        hook = AthenaSQLHook(athena_conn_id=settings.athena_conn_id, aws_conn_id=settings.aws_conn_id)
        expected = compute_bars(hook.get_df(templates_dict["trades_sql"], df_type="pandas"))
        actual = hook.get_df(templates_dict["bars_sql"], df_type="pandas")
        problems = compare_bars(expected, actual, rel_tol=params["bars_rel_tolerance"])
        result = {"bars": len(expected), "problems": problems}
        if problems:
            raise AirflowFailException(f"{len(problems)} bar differences: " + "; ".join(problems[:10]))
        return result

    @task(trigger_rule="all_done")
    def write_validation_report(ti=None, dag_run=None) -> dict:
        """One JSON report per interval with every check's numbers; fails the run if any check failed."""
        from airflow.providers.amazon.aws.hooks.athena import AthenaHook
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.sdk.exceptions import AirflowFailException

        from market_pipeline.catalog import report as reports
        from market_pipeline.catalog.query_results import first_row
        from market_pipeline.coverage import interval_coverage

        states = ti.get_task_states(dag_id=dag_run.dag_id, run_ids=[dag_run.run_id])[dag_run.run_id]
        states.pop(ti.task_id, None)
        summary = ti.xcom_pull(task_ids="interval_manifests") or {"rows": 0, "messages": 0, "dlq": 0, "windows": []}
        query_id = ti.xcom_pull(task_ids="validation_stats")
        stats = (
            first_row(AthenaHook(aws_conn_id=settings.aws_conn_id).get_query_results(query_id)) if query_id else None
        )
        s3 = S3Hook(aws_conn_id=settings.aws_conn_id).get_conn()
        coverage = interval_coverage(
            s3, settings.bucket, settings.table, dag_run.data_interval_start, dag_run.data_interval_end
        )
        report = reports.build_report(
            table=settings.table,
            interval_start=dag_run.data_interval_start,
            interval_end=dag_run.data_interval_end,
            summary=summary,
            stats=stats,
            task_states={t: str(s) for t, s in states.items()},
            bars=ti.xcom_pull(task_ids="check_bars_match_pandas"),
            coverage=coverage,
        )
        reports.write_report(s3, settings.bucket, report)
        if report["status"] != "passed":
            raise AirflowFailException(reports.failure_summary(report))
        return report

    summary = interval_manifests()
    report = write_validation_report()
    # The report waits for every gate (all_done), not only for the bars branch that a failed gate skips.
    gates >> report
    chain(
        wait_for_ingest,
        crawl_raw,
        summary,
        ensure_partitions_cataloged(summary),
        validation_stats,
        gates,
        create_bars_table,
        clear_bars,
        build_bars,
        check_bars_match_pandas(),
        report,
    )
