"""Names and literals placed into SQL: checked once here, so SQL never receives raw Param or env text.

Identifiers (Glue database and table names) must match a strict pattern: Glue lowercases names, and a
name that needs quoting is a mistake in settings rather than something to escape. :class:`LakeSql` is
the ``lake`` object the SQL templates see (its prefixes and keys come from the layout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from market_pipeline import layout
from market_pipeline.settings import PipelineSettings

SQL_DIR = Path(__file__).with_name("sql")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def checked_identifier(name: str) -> str:
    """A Glue/Athena identifier safe to place in SQL (Glue lowercases names anyway)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a valid Glue/Athena identifier (lowercase letters, digits, _)")
    return name


def checked_bucket(name: str) -> str:
    if not _BUCKET.match(name):
        raise ValueError(f"{name!r} is not a valid S3 bucket name")
    return name


def timestamp_text(moment: datetime) -> str:
    """The body of a Trino TIMESTAMP literal in UTC with milliseconds, e.g. 2026-11-25 10:05:00.000."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def timestamp_literal(moment: datetime) -> str:
    return f"TIMESTAMP '{timestamp_text(moment)}'"


@dataclass(frozen=True)
class LakeSql:
    """The `lake` object SQL templates see: validated names, interval formatting, keys from the layout."""

    database: str
    table: str
    bars_table: str
    bucket: str

    @classmethod
    def from_settings(cls, settings: PipelineSettings) -> LakeSql:
        return cls(
            database=checked_identifier(settings.glue_database),
            table=checked_identifier(settings.table),
            bars_table=checked_identifier(settings.bars_table),
            bucket=checked_bucket(settings.bucket),
        )

    @property
    def raw_prefix(self) -> str:
        return layout.raw_prefix(self.table)

    @property
    def bars_prefix(self) -> str:
        return layout.curated_prefix(self.bars_table)

    @staticmethod
    def raw_columns() -> list[tuple[str, str]]:
        from market_pipeline.schema import hive_columns  # pyarrow: only when a template renders, not at DAG parse

        return hive_columns()

    def qualified(self, table: str) -> str:
        return f"{self.database}.{checked_identifier(table)}"

    def manifest_key(self, window_end: datetime) -> str:
        """The manifest an interval waits for (the ingest window ending at `window_end`)."""
        return layout.manifest_key(self.table, window_end)

    def bars_partition_prefix(self, interval_start: datetime) -> str:
        return layout.bars_partition_prefix(self.bars_table, interval_start)

    @staticmethod
    def ts(moment: datetime) -> str:
        """A Trino TIMESTAMP literal body in UTC, e.g. 2026-11-25 10:05:00.000."""
        return timestamp_text(moment)

    @staticmethod
    def dt(moment: datetime) -> str:
        return layout.dt_hour(moment)[0]

    @staticmethod
    def hour(moment: datetime) -> str:
        return f"{layout.dt_hour(moment)[1]:02d}"

    @staticmethod
    def window(moment: datetime) -> str:
        """The bars partition of an interval: HHMM of its start."""
        return layout.ingest_window_name(moment)
