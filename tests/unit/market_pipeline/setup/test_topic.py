"""The topic spec: validated, built from settings, with the configs window ownership needs."""

from __future__ import annotations

import pytest

from market_pipeline.settings import PipelineSettings
from market_pipeline.setup.topic import FIXED_CONFIGS, TopicSpec, pipeline_topic_spec


@pytest.mark.parametrize("kwargs", [{"partitions": 0}, {"replication": 0}, {"name": ""}])
def test_topic_spec_validation(kwargs):
    args = {"name": "t", "partitions": 3, "replication": 1, **kwargs}
    with pytest.raises(ValueError):
        TopicSpec(**args)


def test_pipeline_spec_comes_from_settings_and_setup_params():
    spec = pipeline_topic_spec(PipelineSettings())
    assert (spec.name, spec.partitions, spec.replication) == ("stock_market_data", 3, 1)
    assert spec.configs == {
        "message.timestamp.type": "LogAppendTime",
        "retention.ms": str(7 * 24 * 3600 * 1000),
        "compression.type": "producer",
    }
    custom = pipeline_topic_spec(PipelineSettings(), partitions=6, retention_ms=3_600_000, compression="zstd")
    assert (custom.partitions, custom.configs["retention.ms"], custom.configs["compression.type"]) == (
        6,
        "3600000",
        "zstd",
    )
    assert set(FIXED_CONFIGS) <= set(spec.configs)
