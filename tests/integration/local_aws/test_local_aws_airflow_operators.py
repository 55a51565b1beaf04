"""The Airflow amazon provider's Glue crawler operators, unchanged, against the endpoint.

The operators run with ``.execute(context)`` and a connection from ``AIRFLOW_CONN_AWS_DEFAULT``
pointing at a private endpoint process (so nothing here depends on other tests' state).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.local_aws.conftest import EndpointProcess, make_world
from tests.integration.local_aws.la_helpers import CrawlWorld, parquet_bytes, ticks, wait_state


@pytest.fixture
def airflow_world(
    endpoint_factory: Callable[..., EndpointProcess],
    boto3_session_factory: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> CrawlWorld:
    endpoint = endpoint_factory(env={"LOCAL_AWS_CRAWL_OBJECT_DELAY": "0.2"})
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"region_name": "us-east-1", "endpoint_url": endpoint.url},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))
    world = make_world(boto3_session_factory(endpoint.url), "airflow_db")
    for hour in range(6):
        world.put(f"raw/ticks/dt=2026-01-01/hour={hour:02d}/f.parquet", parquet_bytes(ticks(5, start=hour * 5)))
    return world


def _config(world: CrawlWorld, **overrides: Any) -> dict[str, Any]:
    config = {
        "Name": "airflow_crawler",
        "Role": "arn:aws:iam::123456789012:role/glue-crawler",
        "DatabaseName": world.database,
        "Targets": {"S3Targets": [{"Path": f"s3://{world.bucket}/raw/", "Exclusions": ["**/_*"]}]},
        "SchemaChangePolicy": {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"},
        "Tags": {"project": "stock-market"},
    }
    config.update(overrides)
    return config


def test_create_update_run_operators(airflow_world: CrawlWorld) -> None:
    from airflow.providers.amazon.aws.operators.glue_crawler import (
        GlueCrawlerCreateOperator,
        GlueCrawlerRunOperator,
        GlueCrawlerUpdateOperator,
    )

    world = airflow_world
    created = GlueCrawlerCreateOperator(task_id="create", config=_config(world)).execute({})
    assert created == "airflow_crawler"
    assert world.glue.get_crawler(Name=created)["Crawler"]["State"] == "READY"

    GlueCrawlerUpdateOperator(
        task_id="update", config=_config(world, TablePrefix="af_", Tags={"project": "pipeline"})
    ).execute({})
    crawler = world.glue.get_crawler(Name=created)["Crawler"]
    assert crawler["TablePrefix"] == "af_"
    assert crawler["Version"] == 2
    tags = world.glue.get_tags(ResourceArn="arn:aws:glue:us-east-1:123456789012:crawler/airflow_crawler")["Tags"]
    # the provider only changes or removes existing tag keys (it never adds new ones)
    assert tags == {"project": "pipeline"}

    result = GlueCrawlerRunOperator(task_id="run", crawler_name=created, poll_interval=1).execute({})
    assert result == created
    crawler = world.glue.get_crawler(Name=created)["Crawler"]
    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    table = world.glue.get_table(DatabaseName=world.database, Name="af_ticks")["Table"]
    assert table["Parameters"]["recordCount"] == "30"


def test_run_operator_waits_for_an_already_running_crawl(airflow_world: CrawlWorld) -> None:
    from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator

    world = airflow_world
    world.crawler("running_crawler")
    world.glue.start_crawler(Name="running_crawler")
    wait_state(world.glue, "running_crawler", "RUNNING")

    GlueCrawlerRunOperator(
        task_id="run", crawler_name="running_crawler", poll_interval=1, fail_on_already_running=False
    ).execute({})

    crawler = world.glue.get_crawler(Name="running_crawler")["Crawler"]
    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert len(world.glue.list_crawls(CrawlerName="running_crawler")["Crawls"]) == 1  # no second crawl


def test_run_operator_fails_on_failed_crawl(airflow_world: CrawlWorld) -> None:
    from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator

    world = airflow_world
    world.put("raw/ticks/dt=2026-01-02/hour=00/bad.parquet", b"not parquet")
    world.crawler("failing_crawler")
    with pytest.raises(Exception, match=r"failure|FAILED|Waiter"):
        GlueCrawlerRunOperator(task_id="run", crawler_name="failing_crawler", poll_interval=1).execute({})
    last = world.glue.get_crawler(Name="failing_crawler")["Crawler"]["LastCrawl"]
    assert last["Status"] == "FAILED"
    assert "bad.parquet" in last["ErrorMessage"]
