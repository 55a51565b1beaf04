"""Names and literals that reach SQL: identifiers, buckets, interval formatting of the `lake` macro."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from market_pipeline.catalog.sql_names import LakeSql, checked_identifier, timestamp_literal
from market_pipeline.settings import PipelineSettings

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
END = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Ticks", "ticks; drop table x", "1abc", "a-b", ""])
def test_identifiers_are_validated(name):
    with pytest.raises(ValueError):
        checked_identifier(name)


def test_lake_sql_formats_intervals():
    names = LakeSql.from_settings(PipelineSettings())
    assert names.qualified("ticks") == "stock_market.ticks"
    assert names.ts(END) == "2026-11-25 10:05:00.000"
    assert (names.dt(START), names.hour(START), names.window(START)) == ("2026-11-25", "10", "1000")
    assert timestamp_literal(END) == "TIMESTAMP '2026-11-25 10:05:00.000'"


def test_lake_sql_names_the_interval_keys_from_the_layout():
    names = LakeSql.from_settings(PipelineSettings())
    assert names.manifest_key(END) == "_manifests/ticks/2026-11-25T10:05:00Z.json"
    assert names.bars_partition_prefix(START) == "curated/bars_1m/dt=2026-11-25/hour=10/ingest_window=1000/"
    assert (names.raw_prefix, names.bars_prefix) == ("raw/ticks/", "curated/bars_1m/")


def test_lake_sql_rejects_bad_bucket(monkeypatch):
    monkeypatch.setenv("PIPELINE_BUCKET", "Bad_Bucket")
    with pytest.raises(ValueError, match="bucket"):
        LakeSql.from_settings(PipelineSettings())
