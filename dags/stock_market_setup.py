"""Setup DAG: the Kafka topic, the bucket, the Glue database and crawler, the Athena workgroup."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.hooks.athena import AthenaHook
from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.providers.apache.kafka.hooks.client import KafkaAdminClientHook
from airflow.sdk import DAG, Param, chain, task
from airflow.sdk.exceptions import AirflowFailException

from market_pipeline import catalog, lake
from market_pipeline.dag_defaults import DEFAULT_ARGS, TAGS
from market_pipeline.settings import load_settings
from market_pipeline.topic import TopicConflictError, TopicSpec, ensure_topic, pipeline_topic_configs

settings = load_settings()

DOC = f"""
# Stock market: setup

Creates, or brings up to date, everything the pipeline needs. **Safe to rerun**: every step is
create-or-update, and a second run changes nothing.

| step | what |
|---|---|
| `ensure_topic` | Kafka topic `{settings.topic}` with `message.timestamp.type=LogAppendTime` (ingest windows are defined by broker append time), retention and compression. An existing topic with another partition count or timestamp type **fails the task** with the reason instead of being used. |
| `create_bucket` | S3 bucket `{settings.bucket}` |
| `ensure_glue_database` | Glue database `{settings.glue_database}` |
| `ensure_crawler` | Glue crawler `{settings.crawler}` over `{settings.crawler_target}` only; partitions inherit the table schema, compatible schemas combine |
| `ensure_athena_workgroup` | Athena workgroup `{settings.athena_workgroup}`, results in `{settings.athena_output}` |
| `create_raw_table` | the raw table `{settings.glue_database}.{settings.table}`, declared from the fixed Parquet schema (`CREATE EXTERNAL TABLE IF NOT EXISTS`), so it exists before the first crawl |

**Schedule:** none; trigger it once (`make up` does) and again after changing a Param.

**Params:** `partitions`, `replication_factor`, `retention_hours`, `compression` (topic settings).
Names come from the environment (`PIPELINE_TOPIC`, `PIPELINE_BUCKET`, ...; see the README).
"""

with DAG(
    dag_id="stock_market_setup",
    description="Create or update the topic, bucket, Glue database and crawler, Athena workgroup",
    doc_md=DOC,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "setup"],
    template_searchpath=[str(catalog.SQL_DIR)],
    user_defined_macros={"lake": catalog.LakeSql.from_settings(settings)},
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
            description="Topic compression.type; `producer` keeps what the simulator sends (lz4).",
        ),
    },
) as dag:

    @task
    def ensure_topic_task(params: dict | None = None) -> dict:
        """Create or verify the topic with the configs the ingest windows rely on."""
        assert params is not None
        spec = TopicSpec(
            name=settings.topic,
            partitions=params["partitions"],
            replication=params["replication_factor"],
            configs=pipeline_topic_configs(params["retention_hours"] * 3_600_000, params["compression"]),
        )
        admin = KafkaAdminClientHook(kafka_config_id=settings.kafka_conn_id).get_conn
        try:
            return ensure_topic(admin, spec)
        except TopicConflictError as exc:
            raise AirflowFailException(str(exc)) from exc  # retrying cannot fix a conflicting topic

    create_bucket = S3CreateBucketOperator(
        task_id="create_bucket", bucket_name=settings.bucket, aws_conn_id=settings.aws_conn_id
    )

    @task
    def ensure_glue_database() -> str:
        return lake.ensure_glue_database(GlueCrawlerHook(aws_conn_id=settings.aws_conn_id).glue_client, settings)

    @task
    def ensure_crawler() -> str:
        return lake.ensure_crawler(GlueCrawlerHook(aws_conn_id=settings.aws_conn_id).glue_client, settings)

    @task
    def ensure_athena_workgroup() -> str:
        return lake.ensure_workgroup(AthenaHook(aws_conn_id=settings.aws_conn_id).get_conn(), settings)

    create_raw_table = AthenaOperator(
        task_id="create_raw_table",
        query="create_raw_table.sql",
        workgroup=settings.athena_workgroup,
        database=settings.glue_database,
        aws_conn_id=settings.aws_conn_id,
        sleep_time=2,
    )

    chain(
        ensure_topic_task.override(task_id="ensure_topic")(),
        create_bucket,
        ensure_glue_database(),
        ensure_crawler(),
        ensure_athena_workgroup(),
        create_raw_table,
    )
