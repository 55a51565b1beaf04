"""Every PIPELINE_* setting, its default and its check: declared here and nowhere else.

Everything is overridable through environment variables so that the same DAG code runs against the
local stack and against real AWS; only Airflow connections and these names differ. Settings are
names and numbers only: S3 keys and prefixes are built from them by :mod:`market_pipeline.layout`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

START_DATE_HELP = (
    "PIPELINE_START_DATE is the first data interval the pipeline owns (ISO-8601 UTC, e.g. "
    "2026-11-25T10:00:00Z): ingest and catalog run every interval from there on, none skipped. `make up` "
    "records it once per stack; a deployment sets it once, to when the pipeline went live, and never "
    "moves it (see the README's Operations)"
)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    return _env_parsed(name, default, int, "an integer")


def _env_float(name: str, default: float) -> float:
    return _env_parsed(name, default, float, "a number")


def _instant(text: str) -> datetime:
    """An ISO-8601 instant with a zone (Z or an offset), or a date meaning its midnight UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        if "T" in text or " " in text:
            raise ValueError(f"{text!r} has no time zone")
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _env_parsed(name: str, default: Any, parse: Callable[[str], Any], kind: str) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be {kind}, got {raw!r}") from exc


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
    # Ingest scale-out: partitions are spread over at most this many mapped tasks per window (the
    # Param's default), and those tasks run in this Airflow pool (create it to bound concurrent reads).
    max_ingest_tasks: int = field(default_factory=lambda: _env_int("PIPELINE_MAX_INGEST_TASKS", 16))
    ingest_pool: str = field(default_factory=lambda: _env("PIPELINE_INGEST_POOL", "default_pool"))
    kafka_conn_id: str = field(default_factory=lambda: _env("PIPELINE_KAFKA_CONN_ID", "kafka_default"))
    aws_conn_id: str = field(default_factory=lambda: _env("PIPELINE_AWS_CONN_ID", "aws_default"))
    athena_conn_id: str = field(default_factory=lambda: _env("PIPELINE_ATHENA_CONN_ID", "athena_default"))
    # Every task's retries and the first retry's delay (exponential back-off after it); the test
    # suite shortens the delay so retries still run, fast.
    task_retries: int = field(default_factory=lambda: _env_int("PIPELINE_TASK_RETRIES", 2))
    retry_delay_seconds: float = field(default_factory=lambda: _env_float("PIPELINE_RETRY_DELAY_SECONDS", 30.0))
    # The first interval ingest and catalog own; required by those DAGs (see start_date).
    start_date_text: str = field(default_factory=lambda: _env("PIPELINE_START_DATE", ""))
    # The continuous simulator's defaults (its trigger form's Params start from these).
    simulator_rate: float = field(default_factory=lambda: _env_float("PIPELINE_SIMULATOR_RATE", 200.0))
    simulator_duration_seconds: int = field(
        default_factory=lambda: _env_int("PIPELINE_SIMULATOR_DURATION_SECONDS", 300)
    )
    # How long the simulator waits out a broker outage before it gives up on a tick (librdkafka's
    # message.timeout.ms) and fails its run; a new run waits as long for the broker to answer.
    producer_outage_limit_seconds: int = field(
        default_factory=lambda: _env_int("PIPELINE_PRODUCER_OUTAGE_LIMIT_SECONDS", 300)
    )
    # The tick contract's event-time bounds (market_pipeline.schema: EVENT_TIME_FLOOR, MAX_EVENT_TIME_SKEW;
    # a unit test keeps these defaults equal to those). Replaying prices older than the floor: lower it.
    event_time_floor: datetime = field(
        default_factory=lambda: _env_parsed(
            "PIPELINE_EVENT_TIME_FLOOR", datetime(1990, 1, 1, tzinfo=UTC), _instant, "an ISO-8601 instant with a zone"
        )
    )
    max_event_time_skew_seconds: float = field(
        default_factory=lambda: _env_float("PIPELINE_MAX_EVENT_TIME_SKEW_SECONDS", 300.0)
    )

    def __post_init__(self) -> None:
        if self.interval_minutes not in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60):
            raise ValueError(
                f"PIPELINE_INTERVAL_MINUTES must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60); "
                f"got {self.interval_minutes}"
            )
        if not 1 <= self.max_ingest_tasks <= 1024:
            raise ValueError(f"PIPELINE_MAX_INGEST_TASKS must be between 1 and 1024; got {self.max_ingest_tasks}")
        if self.task_retries < 0 or self.retry_delay_seconds < 0:
            raise ValueError("PIPELINE_TASK_RETRIES and PIPELINE_RETRY_DELAY_SECONDS must not be negative")
        if self.start_date_text:
            _parse_start_date(self.start_date_text)
        if self.simulator_rate < 0 or self.simulator_duration_seconds < 1:
            raise ValueError("PIPELINE_SIMULATOR_RATE must be >= 0 and PIPELINE_SIMULATOR_DURATION_SECONDS >= 1")
        if not 10 <= self.producer_outage_limit_seconds <= 24 * 3600:
            raise ValueError("PIPELINE_PRODUCER_OUTAGE_LIMIT_SECONDS must be between 10 and 86400")
        if self.max_event_time_skew_seconds < 0:
            raise ValueError("PIPELINE_MAX_EVENT_TIME_SKEW_SECONDS must not be negative")

    @property
    def start_date(self) -> datetime:
        """The first interval's start (aware UTC); a clear error when the setting is missing."""
        if not self.start_date_text:
            raise ValueError(f"PIPELINE_START_DATE is not set. {START_DATE_HELP}")
        return _parse_start_date(self.start_date_text)

    @property
    def interval_cron(self) -> str:
        """The cron of the ingest and catalog data intervals (every 5 minutes by default)."""
        return "0 * * * *" if self.interval_minutes == 60 else f"*/{self.interval_minutes} * * * *"


def _parse_start_date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"PIPELINE_START_DATE must be an ISO-8601 instant, got {text!r}. {START_DATE_HELP}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def load_settings() -> PipelineSettings:
    return PipelineSettings()
