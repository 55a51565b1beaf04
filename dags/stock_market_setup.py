"""
# Stock market: setup

Creates, or brings up to date, everything the pipeline needs. **Safe to rerun**: every step is
create-or-update, and a second run changes nothing.

| step | what |
|---|---|
| `ensure_topic` | the Kafka topic (`PIPELINE_TOPIC`) with `message.timestamp.type=LogAppendTime` (ingest windows are defined by broker append time), retention and compression. An existing topic with another partition count or timestamp type **fails the task** with the reason instead of being used. |
| `create_bucket` | the S3 bucket (`PIPELINE_BUCKET`) |
| `ensure_glue_database` | the Glue database (`PIPELINE_GLUE_DATABASE`) |
| `ensure_crawler` | the Glue crawler (`PIPELINE_CRAWLER`) over `s3://<bucket>/raw/` only; partitions inherit the table schema, compatible schemas combine |
| `ensure_athena_workgroup` | the Athena workgroup (`PIPELINE_ATHENA_WORKGROUP`), results in `s3://<bucket>/athena-results/` |
| `create_raw_table` | the raw table (`PIPELINE_TABLE`), declared from the fixed Parquet schema (`CREATE EXTERNAL TABLE IF NOT EXISTS`), so it exists before the first crawl |

**Schedule:** none; trigger it once (`make up` does) and again after changing a Param.

**Params:** `partitions`, `replication_factor`, `retention_hours`, `compression` (topic settings;
`producer` keeps each batch as its producer compressed it: the simulator sends zstd).
Names come from the environment (`PIPELINE_TOPIC`, `PIPELINE_BUCKET`, ...; see the README).
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.sdk import DAG, Param, chain, task

from market_pipeline.catalog.sql_names import SQL_DIR, LakeSql
from market_pipeline.settings import load_settings
from pipeline_airflow import defaults

settings = load_settings()

with DAG(
    dag_id="stock_market_setup",
    description="Create or update the topic, bucket, Glue database and crawler, Athena workgroup",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=defaults.default_args(settings),
    tags=[*defaults.TAGS, "setup"],
    template_searchpath=[str(SQL_DIR)],
    user_defined_macros={"lake": LakeSql.from_settings(settings)},
    params={
        "partitions": Param(
            settings.topic_partitions,
            type="integer",
            minimum=1,
            maximum=256,
            description="Partitions of the topic. Fixed once the topic exists: ticks are keyed by symbol.",
        ),
        "replication_factor": Param(
            settings.topic_replication,
            type="integer",
            minimum=1,
            maximum=5,
            description="Replication factor (1 on the local single-node broker, 3 in production).",
        ),
        "retention_hours": Param(
            settings.topic_retention_ms // 3_600_000,
            type="integer",
            minimum=1,
            maximum=24 * 365,
            description="How long Kafka keeps ticks. Ingest windows older than this cannot be re-read.",
        ),
        "compression": Param(
            "producer",
            type="string",
            enum=["producer", "zstd", "lz4", "snappy", "gzip", "uncompressed"],
            description="Topic compression.type; `producer` keeps what each producer sends (the simulator: zstd).",
        ),
    },
) as dag:

    @task
    def ensure_topic(params: dict | None = None) -> dict:
        """Create or verify the topic with the configs the ingest windows rely on."""
        from airflow.sdk.exceptions import AirflowFailException

        from market_pipeline.setup import topic
        from pipeline_airflow.kafka import admin_client

        assert params is not None
        spec = topic.pipeline_topic_spec(
            settings,
            partitions=params["partitions"],
            replication=params["replication_factor"],
            retention_ms=params["retention_hours"] * 3_600_000,
            compression=params["compression"],
        )
        try:
            return topic.ensure_topic(admin_client(settings.kafka_conn_id), spec)
        except topic.TopicConflictError as exc:
            raise AirflowFailException(str(exc)) from exc  # retrying cannot fix a conflicting topic

    create_bucket = S3CreateBucketOperator(
        task_id="create_bucket", bucket_name=settings.bucket, aws_conn_id=settings.aws_conn_id
    )

    @task
    def ensure_glue_database() -> str:
        from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook

        from market_pipeline.setup import aws_resources

        return aws_resources.ensure_glue_database(
            GlueCrawlerHook(aws_conn_id=settings.aws_conn_id).glue_client, settings
        )

    @task
    def ensure_crawler() -> str:
        from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook

        from market_pipeline.setup import aws_resources

        return aws_resources.ensure_crawler(GlueCrawlerHook(aws_conn_id=settings.aws_conn_id).glue_client, settings)

    @task
    def ensure_athena_workgroup() -> str:
        from airflow.providers.amazon.aws.hooks.athena import AthenaHook

        from market_pipeline.setup import aws_resources

        return aws_resources.ensure_workgroup(AthenaHook(aws_conn_id=settings.aws_conn_id).get_conn(), settings)

    create_raw_table = AthenaOperator(
        task_id="create_raw_table",
        query="create_raw_table.sql",
        workgroup=settings.athena_workgroup,
        database=settings.glue_database,
        aws_conn_id=settings.aws_conn_id,
        sleep_time=2,
    )

    chain(
        ensure_topic(),
        create_bucket,
        ensure_glue_database(),
        ensure_crawler(),
        ensure_athena_workgroup(),
        create_raw_table,
    )
