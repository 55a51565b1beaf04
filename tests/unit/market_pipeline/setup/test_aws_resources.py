"""The crawler's configuration: raw/ only, and create-or-update compares it field by field."""

from __future__ import annotations

from market_pipeline.settings import PipelineSettings
from market_pipeline.setup import aws_resources as lake


def test_crawler_config_targets_raw_only_and_matches_itself():
    settings = PipelineSettings()
    wanted = lake.crawler_config(settings)
    assert wanted["Targets"]["S3Targets"][0]["Path"] == "s3://stock-market-lake/raw/"
    current = {**wanted, "State": "READY", "Targets": {"S3Targets": wanted["Targets"]["S3Targets"], "JdbcTargets": []}}
    assert lake._matches(current, wanted)
    assert not lake._matches({**current, "DatabaseName": "other"}, wanted)
