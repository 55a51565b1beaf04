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

from moto.glue.models import FakeDatabase, FakePartition, FakeTable, GlueBackend

from local_aws.glue.models import LocalCrawl, LocalCrawler

log = logging.getLogger(__name__)


def _ts(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


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
                "role": crawler.role,
                "database_name": crawler.database_name,
                "description": crawler.description,
                "targets": crawler.targets,
                "schedule": crawler.schedule,
                "classifiers": crawler.classifiers,
                "table_prefix": crawler.table_prefix,
                "schema_change_policy": crawler.schema_change_policy,
                "recrawl_policy": crawler.recrawl_policy,
                "lineage_configuration": crawler.lineage_configuration,
                "configuration": crawler.configuration,
                "crawler_security_configuration": crawler.crawler_security_configuration,
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
            role=c["role"],
            database_name=c["database_name"],
            description=c["description"],
            targets=c["targets"],
            schedule=c["schedule"],
            classifiers=c["classifiers"],
            table_prefix=c["table_prefix"],
            schema_change_policy=c["schema_change_policy"],
            recrawl_policy=c["recrawl_policy"],
            lineage_configuration=c["lineage_configuration"],
            configuration=c["configuration"],
            crawler_security_configuration=c["crawler_security_configuration"],
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
