"""Glue catalog <-> JSON: databases, tables (all versions), partitions and crawlers.

Why JSON of moto's own inputs: moto stores tables and partitions as the API inputs it received,
so saving those inputs verbatim and rebuilding the model objects restores exactly what
GetTable/GetPartitions returned before the restart.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from typing import Any

from moto.glue.models import FakeDatabase, FakePartition, FakeTable, GlueBackend, glue_backends

from local_aws.glue.crawl_types import CATALOG_LOCK
from local_aws.glue.models import LocalCrawl, LocalCrawler

log = logging.getLogger(__name__)


# The crawler's configuration, saved and restored under moto's FakeCrawler attribute names.
_CRAWLER_SETTINGS = (
    "role",
    "database_name",
    "description",
    "targets",
    "schedule",
    "classifiers",
    "table_prefix",
    "schema_change_policy",
    "recrawl_policy",
    "lineage_configuration",
    "configuration",
    "crawler_security_configuration",
)


def _ts(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def dump(account_id: str) -> dict[str, Any]:
    """Every region of the endpoint's account that holds any catalog object or crawler."""
    regions = {}
    for region in list(glue_backends[account_id].keys()):
        backend = glue_backends[account_id][region]
        if backend.databases or backend.crawlers:
            with CATALOG_LOCK:  # a consistent snapshot, never half a crawl
                regions[region] = dump_backend(backend)
    return {"format": 1, "regions": regions}


def load(account_id: str, data: dict[str, Any]) -> None:
    for region, region_data in (data.get("regions") or {}).items():
        load_backend(glue_backends[account_id][region], region_data)


def dump_backend(backend: GlueBackend) -> dict[str, Any]:
    databases = []
    for db in list(backend.databases.values()):
        tables = []
        for table in list(db.tables.values()):
            tables.append(
                {
                    "name": table.name,
                    "versions": dict(table.versions),
                    "current_version": table._current_version,
                    "created": _ts(table.created_time),
                    "updated": _ts(table.updated_time),
                    "partitions": [
                        {"input": p.partition_input, "created": _ts(p.creation_time)}
                        for p in list(table.partitions.values())
                    ],
                }
            )
        databases.append({"name": db.name, "input": db.input, "created": _ts(db.created_time), "tables": tables})
    crawlers = []
    for crawler in list(backend.crawlers.values()):
        crawlers.append(
            {
                "name": crawler.name,
                **{attr: getattr(crawler, attr) for attr in _CRAWLER_SETTINGS},
                "creation_time": _ts(crawler.creation_time),
                "last_updated": _ts(crawler.last_updated),
                "version": crawler.version,
                "tags": backend.get_tags(crawler.arn),
                "crawls": [c.dump() for c in crawler.crawls if isinstance(c, LocalCrawl)],
            }
        )
    return {"databases": databases, "crawlers": crawlers}


def load_backend(backend: GlueBackend, data: dict[str, Any]) -> None:
    for item in data.get("databases", []):
        db = FakeDatabase(item["name"], item["input"], catalog_id=backend.account_id)
        db.created_time = _parse(item.get("created")) or db.created_time
        tables: OrderedDict[str, FakeTable] = OrderedDict()
        for t in item.get("tables", []):
            versions = {str(k): v for k, v in t["versions"].items()}
            first = versions[min(versions, key=int)]
            table = FakeTable(db.name, t["name"], first, catalog_id=backend.account_id)
            table.versions = versions
            table._current_version = int(t["current_version"])
            table.created_time = _parse(t.get("created")) or table.created_time
            table.updated_time = _parse(t.get("updated"))
            partitions: OrderedDict[str, FakePartition] = OrderedDict()
            for p in t.get("partitions", []):
                part = FakePartition(db.name, table.name, p["input"])
                part.creation_time = _parse(p.get("created")) or part.creation_time
                partitions[str(part.values)] = part
            table.partitions = partitions
            tables[table.name] = table
        db.tables = tables
        backend.databases[db.name] = db
    for c in data.get("crawlers", []):
        crawler = LocalCrawler(
            name=c["name"],
            **{attr: c[attr] for attr in _CRAWLER_SETTINGS},
            tags=c.get("tags") or {},
            backend=backend,
        )
        crawler.creation_time = _parse(c.get("creation_time")) or crawler.creation_time
        crawler.last_updated = _parse(c.get("last_updated")) or crawler.last_updated
        crawler.version = c.get("version", 1)
        crawler.crawls = [LocalCrawl.load(crawler.name, d) for d in c.get("crawls", [])]
        backend.crawlers[crawler.name] = crawler
    log.info(
        "restored Glue catalog: %d databases, %d crawlers",
        len(data.get("databases", [])),
        len(data.get("crawlers", [])),
    )
