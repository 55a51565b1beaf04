"""The types a crawl works with: what it is told (a snapshot of the crawler's configuration), what it
reports back, how it is cancelled, and the lock that keeps its catalog writes whole."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

# Serialises catalog writes between API requests and crawls: a crawl swaps in whole new dicts,
# so without it a CreatePartition landing mid-swap could be lost.
CATALOG_LOCK = threading.RLock()


class CrawlCancelled(Exception):
    """StopCrawler was called: abandon the crawl between two steps."""


@dataclass(frozen=True)
class CrawlSettings:
    """A snapshot of the crawler's configuration, taken when the crawl starts."""

    name: str
    database: str
    targets: dict[str, Any]
    table_prefix: str = ""
    update_behavior: str = "UPDATE_IN_DATABASE"
    delete_behavior: str = "DEPRECATE_IN_DATABASE"
    recrawl_behavior: str = "CRAWL_EVERYTHING"
    configuration: dict[str, Any] = field(default_factory=dict)
    role: str = ""

    @property
    def combine_compatible(self) -> bool:
        grouping = self.configuration.get("Grouping", {})
        return grouping.get("TableGroupingPolicy") == "CombineCompatibleSchemas"

    @property
    def table_level(self) -> int | None:
        level = self.configuration.get("Grouping", {}).get("TableLevelConfiguration")
        return int(level) if level else None

    @property
    def partitions_inherit(self) -> bool:
        out = self.configuration.get("CrawlerOutput", {}).get("Partitions", {})
        return out.get("AddOrUpdateBehavior") == "InheritFromTable"


@dataclass
class CrawlOutcome:
    """What a crawl did; feeds LastCrawl, ListCrawls' Summary and GetCrawlerMetrics."""

    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    partitions_created: int = 0
    partitions_updated: int = 0
    partitions_deleted: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"tables created {self.tables_created}, updated {self.tables_updated}, deleted "
            f"{self.tables_deleted}; partitions created {self.partitions_created}, updated "
            f"{self.partitions_updated}, deleted {self.partitions_deleted}"
        )
