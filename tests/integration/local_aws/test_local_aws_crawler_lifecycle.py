"""Crawler states, LastCrawl, StopCrawler, UpdateCrawler, GetCrawlerMetrics and AWS error shapes.

Crawls that must be observed while RUNNING run on a private endpoint started with
``LOCAL_AWS_CRAWL_OBJECT_DELAY`` (a per-object pause), so no test depends on a race.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.local_aws.conftest import EndpointProcess, make_world
from tests.integration.local_aws.la_helpers import CrawlWorld, crawl, parquet_bytes, ticks, wait_ready, wait_state

SLOW = {"LOCAL_AWS_CRAWL_OBJECT_DELAY": "0.25"}


def _layout(world: CrawlWorld, files: int) -> None:
    for i in range(files):
        world.put(f"raw/ticks/dt=2026-01-01/hour={i:02d}/f.parquet", parquet_bytes(ticks(3, start=i * 3)))


@pytest.fixture
def slow_world(
    endpoint_factory: Callable[..., EndpointProcess], boto3_session_factory: Callable[[str], Any]
) -> CrawlWorld:
    endpoint = endpoint_factory(env=SLOW)
    world = make_world(boto3_session_factory(endpoint.url), "slow_db")
    _layout(world, files=12)  # about 3 s of crawling
    return world


def _error(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        call()
    resp = err.value.response
    return resp["Error"]["Code"], resp["Error"]["Message"], resp["ResponseMetadata"]["HTTPStatusCode"]


def test_states_last_crawl_and_running_errors(slow_world: CrawlWorld) -> None:
    glue = slow_world.glue
    name = slow_world.crawler("c_states")
    fresh = glue.get_crawler(Name=name)["Crawler"]
    assert fresh["State"] == "READY"
    assert "LastCrawl" not in fresh
    assert fresh["SchemaChangePolicy"] == {
        "UpdateBehavior": "UPDATE_IN_DATABASE",
        "DeleteBehavior": "DEPRECATE_IN_DATABASE",
    }
    assert fresh["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}

    glue.start_crawler(Name=name)
    running = glue.get_crawler(Name=name)["Crawler"]
    assert running["State"] == "RUNNING"
    code, message, status = _error(lambda: glue.start_crawler(Name=name))
    assert (code, status) == ("CrawlerRunningException", 400)
    assert name in message
    code, _, _ = _error(lambda: glue.update_crawler(Name=name, Description="x"))
    assert code == "CrawlerRunningException"
    code, _, _ = _error(lambda: glue.delete_crawler(Name=name))
    assert code == "CrawlerRunningException"
    metrics = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert metrics["StillEstimating"] is True
    assert glue.list_crawls(CrawlerName=name)["Crawls"][-1]["State"] == "RUNNING"

    done = wait_ready(glue, name, timeout=60)
    last = done["LastCrawl"]
    assert last["Status"] == "SUCCEEDED"
    assert last["LogGroup"] == "/aws-glue/crawlers"
    assert last["LogStream"] == name
    assert last["MessagePrefix"]
    assert last["StartTime"] is not None
    assert "ErrorMessage" not in last
    crawls = glue.list_crawls(CrawlerName=name)["Crawls"]
    assert crawls[-1]["State"] == "COMPLETED"
    assert crawls[-1]["CrawlId"] == last["MessagePrefix"]
    assert crawls[-1]["EndTime"] >= crawls[-1]["StartTime"]
    code, message, _ = _error(lambda: glue.stop_crawler(Name=name))
    assert code == "CrawlerNotRunningException"
    assert name in message


def test_stop_crawler_cancels(slow_world: CrawlWorld) -> None:
    glue = slow_world.glue
    name = slow_world.crawler("c_stop")
    glue.start_crawler(Name=name)
    wait_state(glue, name, "RUNNING")
    glue.stop_crawler(Name=name)
    stopping = glue.get_crawler(Name=name)["Crawler"]["State"]
    assert stopping in ("STOPPING", "READY")
    done = wait_ready(glue, name, timeout=30)
    assert done["LastCrawl"]["Status"] == "CANCELLED"
    assert glue.list_crawls(CrawlerName=name)["Crawls"][-1]["State"] == "STOPPED"
    # a cancelled crawl leaves the catalog untouched and the crawler reusable
    assert glue.get_tables(DatabaseName=slow_world.database)["TableList"] == []
    glue.start_crawler(Name=name)
    assert wait_ready(glue, name, timeout=60)["LastCrawl"]["Status"] == "SUCCEEDED"


def test_update_crawler(world: CrawlWorld) -> None:
    glue = world.glue
    name = world.crawler("c_update")
    before = glue.get_crawler(Name=name)["Crawler"]
    glue.update_crawler(
        Name=name,
        Description="updated",
        TablePrefix="v2_",
        Targets={"S3Targets": [{"Path": f"s3://{world.bucket}/other/", "Exclusions": ["**.json"]}]},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
        Configuration='{"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}',
    )
    after = glue.get_crawler(Name=name)["Crawler"]
    assert after["Description"] == "updated"
    assert after["TablePrefix"] == "v2_"
    assert after["Targets"]["S3Targets"][0]["Path"] == f"s3://{world.bucket}/other/"
    assert after["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert after["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert "InheritFromTable" in after["Configuration"]
    assert after["Version"] == before["Version"] + 1
    assert after["LastUpdated"] >= before["LastUpdated"]
    assert after["Role"] == before["Role"]  # untouched fields stay

    world.put("other/ticks/dt=2026-01-01/a.parquet", parquet_bytes(ticks(2)))
    crawl(glue, name)
    assert [t["Name"] for t in glue.get_tables(DatabaseName=world.database)["TableList"]] == ["v2_ticks"]

    glue.update_crawler(Name=name, DatabaseName="db_created_by_crawler_" + world.database[-7:])
    assert glue.get_crawler(Name=name)["Crawler"]["DatabaseName"].startswith("db_created_by_crawler_")
    code, _, _ = _error(lambda: glue.update_crawler(Name=name, Configuration="{not json"))
    assert code == "InvalidInputException"


def test_get_crawler_metrics(world: CrawlWorld) -> None:
    glue = world.glue
    world.put("raw/ticks/dt=2026-01-01/a.parquet", parquet_bytes(ticks(2)))
    world.put("raw/quotes/dt=2026-01-01/a.parquet", parquet_bytes(ticks(2)))
    name = world.crawler("c_metrics")
    empty = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert empty == {
        "CrawlerName": name,
        "TimeLeftSeconds": 0.0,
        "StillEstimating": False,
        "LastRuntimeSeconds": 0.0,
        "MedianRuntimeSeconds": 0.0,
        "TablesCreated": 0,
        "TablesUpdated": 0,
        "TablesDeleted": 0,
    }
    crawl(glue, name)
    first = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert (first["TablesCreated"], first["TablesUpdated"], first["TablesDeleted"]) == (2, 0, 0)
    assert first["LastRuntimeSeconds"] > 0
    crawl(glue, name)
    second = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert (second["TablesCreated"], second["TablesUpdated"]) == (0, 0)  # nothing changed
    assert second["MedianRuntimeSeconds"] > 0
    listed = glue.get_crawler_metrics()["CrawlerMetricsList"]
    assert name in [m["CrawlerName"] for m in listed]
    assert glue.get_crawler_metrics(CrawlerNameList=["no_such_crawler"])["CrawlerMetricsList"] == []


@pytest.mark.parametrize("action", ["get_crawler", "start_crawler", "stop_crawler", "update_crawler", "delete_crawler"])
def test_unknown_crawler_is_entity_not_found(aws_client: Callable[..., Any], action: str) -> None:
    glue = aws_client("glue")
    code, message, status = _error(lambda: getattr(glue, action)(Name="no_such_crawler"))
    assert (code, status) == ("EntityNotFoundException", 400)
    assert message == "Crawler entry with name no_such_crawler does not exist"


def test_unknown_crawler_in_list_crawls(aws_client: Callable[..., Any]) -> None:
    code, message, _ = _error(lambda: aws_client("glue").list_crawls(CrawlerName="no_such_crawler"))
    assert code == "EntityNotFoundException"
    assert message == "Crawler entry with name no_such_crawler does not exist"


def test_sync_wait_makes_first_poll_ready(
    endpoint_factory: Callable[..., EndpointProcess], boto3_session_factory: Callable[[str], Any]
) -> None:
    endpoint = endpoint_factory(sync_wait=30)
    world = make_world(boto3_session_factory(endpoint.url), "sync_db")
    _layout(world, files=3)
    name = world.crawler("c_sync")
    started = time.monotonic()
    world.glue.start_crawler(Name=name)
    crawler = world.glue.get_crawler(Name=name)["Crawler"]
    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert time.monotonic() - started < 30
    assert [t["Name"] for t in world.glue.get_tables(DatabaseName=world.database)["TableList"]] == ["ticks"]
