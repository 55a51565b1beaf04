"""Pipeline settings: names and defaults shared by the DAGs, the library and the tools.

Everything is overridable through environment variables so that the same DAG code runs against the
local stack and against real AWS; only Airflow connections and these names differ.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class PipelineSettings:
    """Names of the pipeline's resources. Read once per process from the environment."""

    topic: str = field(default_factory=lambda: _env("PIPELINE_TOPIC", "stock_market_data"))
    topic_partitions: int = field(default_factory=lambda: _env_int("PIPELINE_TOPIC_PARTITIONS", 3))
    topic_replication: int = field(default_factory=lambda: _env_int("PIPELINE_TOPIC_REPLICATION", 1))
    topic_retention_ms: int = field(
        default_factory=lambda: _env_int("PIPELINE_TOPIC_RETENTION_MS", 7 * 24 * 3600 * 1000)
    )
    bucket: str = field(default_factory=lambda: _env("PIPELINE_BUCKET", "stock-market-lake"))
    table: str = field(default_factory=lambda: _env("PIPELINE_TABLE", "ticks"))
    bars_table: str = field(default_factory=lambda: _env("PIPELINE_BARS_TABLE", "bars_1m"))
    glue_database: str = field(default_factory=lambda: _env("PIPELINE_GLUE_DATABASE", "stock_market"))
    crawler: str = field(default_factory=lambda: _env("PIPELINE_CRAWLER", "stock_market_raw_crawler"))
    crawler_role: str = field(
        default_factory=lambda: _env(
            "PIPELINE_CRAWLER_ROLE", "arn:aws:iam::123456789012:role/stock-market-glue-crawler"
        )
    )
    athena_workgroup: str = field(default_factory=lambda: _env("PIPELINE_ATHENA_WORKGROUP", "stock_market"))
    consumer_group: str = field(default_factory=lambda: _env("PIPELINE_CONSUMER_GROUP", "stock_market_ingest"))
    interval_minutes: int = field(default_factory=lambda: _env_int("PIPELINE_INTERVAL_MINUTES", 5))
    kafka_conn_id: str = field(default_factory=lambda: _env("PIPELINE_KAFKA_CONN_ID", "kafka_default"))
    aws_conn_id: str = field(default_factory=lambda: _env("PIPELINE_AWS_CONN_ID", "aws_default"))
    athena_conn_id: str = field(default_factory=lambda: _env("PIPELINE_ATHENA_CONN_ID", "athena_default"))

    def __post_init__(self) -> None:
        if self.interval_minutes not in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60):
            raise ValueError(
                f"PIPELINE_INTERVAL_MINUTES must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60); "
                f"got {self.interval_minutes}"
            )

    @property
    def interval_cron(self) -> str:
        """The cron of the ingest and catalog data intervals (every 5 minutes by default)."""
        return "0 * * * *" if self.interval_minutes == 60 else f"*/{self.interval_minutes} * * * *"

    @property
    def raw_prefix(self) -> str:
        return f"raw/{self.table}/"

    @property
    def dlq_prefix(self) -> str:
        return f"dlq/{self.table}/"

    @property
    def manifest_prefix(self) -> str:
        return f"_manifests/{self.table}/"

    @property
    def curated_prefix(self) -> str:
        return f"curated/{self.bars_table}/"

    @property
    def reports_prefix(self) -> str:
        return f"_reports/{self.table}/"

    @property
    def athena_output(self) -> str:
        return f"s3://{self.bucket}/athena-results/"

    @property
    def crawler_target(self) -> str:
        return f"s3://{self.bucket}/raw/"


def load_settings() -> PipelineSettings:
    return PipelineSettings()
