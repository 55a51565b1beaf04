"""The `stack` fixture of the ingest tests: a fresh 3-partition topic, bucket and consumer group."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.market_pipeline.ingest_helpers import Stack


@pytest.fixture
def stack(kafka_bootstrap, kafka_topic, s3_bucket, boto_client) -> Stack:
    return Stack(
        kafka_bootstrap, kafka_topic(3, prefix="ingest"), s3_bucket, boto_client("s3"), f"g_{uuid.uuid4().hex[:8]}"
    )
