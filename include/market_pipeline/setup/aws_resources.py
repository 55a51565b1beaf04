"""Create-or-update the lake's AWS resources: Glue database, crawler configuration, Athena workgroup.

Each function takes a boto3 client (from the provider's hooks in the DAG), so the same code runs
against real AWS and the local endpoint, and each is safe to rerun: setup is idempotent.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from market_pipeline import layout
from market_pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

# Partitions inherit the table's schema, and compatible schemas combine into one table: the raw
# table has one fixed schema, so a crawl never splits it into per-partition tables. Tables sit at
# level 3 (s3://bucket/raw/<table>/, counting the bucket as level 1), so combining never folds two tables into one with a partition_0.
CRAWLER_CONFIGURATION = {
    "Version": 1.0,
    "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
    "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas", "TableLevelConfiguration": 3},
}


def crawler_config(settings: PipelineSettings) -> dict[str, Any]:
    """The crawler's full configuration (the keyword arguments of Glue's CreateCrawler/UpdateCrawler)."""
    return {
        "Name": settings.crawler,
        "Role": settings.crawler_role,
        "DatabaseName": settings.glue_database,
        "Description": "Catalogs the raw tick Parquet objects written by stock_market_ingest",
        # raw/ only: dead letters, manifests, reports and Athena results are not tables.
        "Targets": {"S3Targets": [{"Path": layout.crawler_target(settings.bucket), "Exclusions": ["**/_*", "**/.*"]}]},
        "SchemaChangePolicy": {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"},
        "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
        "Configuration": json.dumps(CRAWLER_CONFIGURATION, separators=(",", ":"), sort_keys=True),
    }


def ensure_glue_database(glue: Any, settings: PipelineSettings) -> str:
    try:
        glue.get_database(Name=settings.glue_database)
        return "unchanged"
    except glue.exceptions.EntityNotFoundException:
        pass
    try:
        glue.create_database(
            DatabaseInput={
                "Name": settings.glue_database,
                "Description": "Stock-market pipeline: raw ticks and curated bars",
            }
        )
    except glue.exceptions.AlreadyExistsException:
        return "unchanged"
    log.info("created Glue database %s", settings.glue_database)
    return "created"


def ensure_crawler(glue: Any, settings: PipelineSettings, wait_timeout: float = 900.0) -> str:
    """Create the crawler, or update it to the wanted configuration (waiting out a running crawl)."""
    wanted = crawler_config(settings)
    try:
        current = glue.get_crawler(Name=settings.crawler)["Crawler"]
    except glue.exceptions.EntityNotFoundException:
        glue.create_crawler(**wanted)
        log.info("created crawler %s", settings.crawler)
        return "created"
    if _matches(current, wanted):
        return "unchanged"
    # Glue refuses UpdateCrawler while a crawl runs; a running crawl is waited for, not an error.
    deadline = time.monotonic() + wait_timeout
    while current.get("State") != "READY":
        if time.monotonic() > deadline:
            raise TimeoutError(f"crawler {settings.crawler} still {current.get('State')} after {wait_timeout:.0f}s")
        log.info("crawler %s is %s; waiting before updating it", settings.crawler, current.get("State"))
        time.sleep(5)
        current = glue.get_crawler(Name=settings.crawler)["Crawler"]
    glue.update_crawler(**wanted)
    log.info("updated crawler %s", settings.crawler)
    return "updated"


def _matches(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    if json.loads(current.get("Configuration") or "{}") != json.loads(wanted["Configuration"]):
        return False
    current_targets = [
        {"Path": t.get("Path"), "Exclusions": t.get("Exclusions", [])}
        for t in current.get("Targets", {}).get("S3Targets", [])
    ]
    if current_targets != wanted["Targets"]["S3Targets"]:
        return False
    return all(
        current.get(key) == wanted[key]
        for key in ("Role", "DatabaseName", "SchemaChangePolicy", "RecrawlPolicy", "Description")
    )


def ensure_workgroup(athena: Any, settings: PipelineSettings) -> str:
    """The workgroup's output location is where every query's CSV result lands (and it is enforced)."""
    output = layout.athena_output(settings.bucket)
    configuration = {
        "ResultConfiguration": {"OutputLocation": output},
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": False,
    }
    try:
        current = athena.get_work_group(WorkGroup=settings.athena_workgroup).get("WorkGroup")
    except athena.exceptions.InvalidRequestException:
        current = None
    if current is None:
        athena.create_work_group(
            Name=settings.athena_workgroup,
            Configuration=configuration,
            Description="Stock-market pipeline validation and curated-layer queries",
        )
        log.info("created Athena workgroup %s -> %s", settings.athena_workgroup, output)
        return "created"
    cfg = current.get("Configuration", {})
    if (
        cfg.get("ResultConfiguration", {}).get("OutputLocation") == output
        and cfg.get("EnforceWorkGroupConfiguration") is True
    ):
        return "unchanged"
    athena.update_work_group(
        WorkGroup=settings.athena_workgroup,
        ConfigurationUpdates={
            "ResultConfigurationUpdates": {"OutputLocation": output},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    log.info("updated Athena workgroup %s -> %s", settings.athena_workgroup, output)
    return "updated"
