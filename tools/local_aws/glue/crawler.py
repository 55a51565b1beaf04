"""The crawl itself: turn what ``layout`` found under the S3 targets into catalog changes.

Why in-process: the catalog is moto's Glue backend, so what the crawler writes is exactly what
GetTable/GetPartitions and Athena see. Catalog writes are copy-on-write (a new dict or object is
swapped in) because request threads may be iterating tables or partitions while a crawl runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto.glue.models import FakeDatabase, FakePartition, FakeTable, GlueBackend
from moto.s3.models import S3Backend

from local_aws.catalog_types import Column, parquet_storage_descriptor
from local_aws.glue.crawl_types import CATALOG_LOCK, CrawlCancelled, CrawlOutcome, CrawlSettings
from local_aws.glue.layout import (
    FileFacts,
    ObjectRef,
    TableScan,
    combine,
    group_tables,
    list_target,
    parse_s3_path,
    read_facts,
    table_columns,
)
from local_aws.glue.schema import merge_columns

log = logging.getLogger(__name__)

FOOTER_WORKERS = 4


# ---------------------------------------------------------------------------------------------
# catalog objects
# ---------------------------------------------------------------------------------------------


def _stats(facts: Iterable[FileFacts]) -> dict[str, str]:
    facts = list(facts)
    rows = sum(f.rows for f in facts)
    size = sum(f.size for f in facts)
    codecs = {f.compression for f in facts}
    return {
        "recordCount": str(rows),
        "objectCount": str(len(facts)),
        "averageRecordSize": str(size // rows if rows else 0),
        "sizeKey": str(size),
        "compressionType": codecs.pop() if len(codecs) == 1 else "none",
    }


def _crawler_params(settings: CrawlSettings, stats: dict[str, str]) -> dict[str, str]:
    return {
        "classification": "parquet",
        "typeOfData": "file",
        **stats,
        "UPDATED_BY_CRAWLER": settings.name,
        "CrawlerSchemaSerializerVersion": "1.0",
        "CrawlerSchemaDeserializerVersion": "1.0",
    }


def _partition_location(table_location: str, keys: list[str], values: tuple[str, ...]) -> str:
    parts = [v if k.startswith("partition_") else f"{k}={v}" for k, v in zip(keys, values, strict=True)]
    return table_location + "".join(f"{p}/" for p in parts)


# ---------------------------------------------------------------------------------------------
# the crawl
# ---------------------------------------------------------------------------------------------


class CrawlRun:
    """One crawl of one crawler; ``run()`` is called on a background thread."""

    def __init__(
        self,
        settings: CrawlSettings,
        glue: GlueBackend,
        s3: S3Backend,
        cancel: threading.Event,
        object_delay: float = 0.0,
    ) -> None:
        self.settings = settings
        self.glue = glue
        self.s3 = s3
        self.cancel = cancel
        self.object_delay = object_delay  # test aid: slow crawls down to observe RUNNING/StopCrawler
        self.outcome = CrawlOutcome()

    def _may_update(self) -> bool:
        return (
            self.settings.update_behavior == "UPDATE_IN_DATABASE"
            and self.settings.recrawl_behavior != "CRAWL_NEW_FOLDERS_ONLY"
        )

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise CrawlCancelled()

    def run(self) -> CrawlOutcome:
        started = time.monotonic()
        settings = self.settings
        if not settings.database:
            self.outcome.errors.append("The crawler has no DatabaseName to write tables to")
            return self.outcome
        database = self._database()
        s3_targets = settings.targets.get("S3Targets") or []
        if not s3_targets:
            other = [k for k, v in settings.targets.items() if v]
            self.outcome.errors.append(
                f"No S3 targets to crawl (this endpoint crawls S3 only; got {other or 'no targets'})"
            )
            return self.outcome
        seen_locations: set[str] = set()
        failed_locations: set[str] = set()
        crawled_roots: list[str] = []
        for target in s3_targets:
            self._check_cancel()
            path = target.get("Path", "")
            try:
                bucket, prefix = parse_s3_path(path)
                if prefix and not prefix.endswith("/"):
                    prefix += "/"  # an include path names a folder
                refs = list_target(self.s3, bucket, prefix, target.get("Exclusions") or [])
            except (LookupError, ValueError) as exc:
                self.outcome.errors.append(f"{path}: {exc}")
                continue
            crawled_roots.append(f"s3://{bucket}/{prefix}")
            scans = group_tables(settings, bucket, prefix, refs)
            if settings.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY":
                scans = [self._only_new(database, s) for s in scans]
                scans = [s for s in scans if s.files]
            self._read_footers(scans)
            # An explicit table level fixes where tables are; combining must not move them up a level.
            if settings.combine_compatible and settings.table_level is None:
                scans = combine(settings, bucket, prefix, scans)
            for scan in scans:
                self._check_cancel()
                seen_locations.add(scan.location)
                if scan.errors:
                    failed_locations.add(scan.location)
                    self.outcome.errors.extend(scan.errors)
                    log.warning("crawler %s: table %s skipped: %s", settings.name, scan.name, "; ".join(scan.errors))
                    continue
                with CATALOG_LOCK:
                    self._apply_table(database, scan)
        if settings.recrawl_behavior != "CRAWL_NEW_FOLDERS_ONLY":
            with CATALOG_LOCK:
                self._vanished_tables(database, crawled_roots, seen_locations | failed_locations)
        log.info(
            "crawler %s finished in %.2fs: %s%s",
            settings.name,
            time.monotonic() - started,
            self.outcome.summary(),
            f"; errors: {self.outcome.errors}" if self.outcome.errors else "",
        )
        return self.outcome

    # -- helpers --------------------------------------------------------------------------------

    def _database(self) -> FakeDatabase:
        db = self.glue.databases.get(self.settings.database)
        if db is None:
            log.info("crawler %s: creating database %s", self.settings.name, self.settings.database)
            self.glue.create_database(self.settings.database, {"Name": self.settings.database}, tags=None)
            db = self.glue.databases[self.settings.database]
        return db

    def _only_new(self, database: FakeDatabase, scan: TableScan) -> TableScan:
        """CRAWL_NEW_FOLDERS_ONLY: drop files of partitions (or tables) already in the catalog."""
        table = database.tables.get(scan.name)
        if table is None:
            return scan
        if not scan.partition_keys:
            scan.files = []
            return scan
        known = {tuple(p.values) for p in list(table.partitions.values())}
        scan.files = [(ref, v) for ref, v in scan.files if v is not None and v not in known]
        return scan

    def _read_footers(self, scans: list[TableScan]) -> None:
        jobs = [(scan, ref) for scan in scans for ref, _ in scan.files]

        def work(job: tuple[TableScan, ObjectRef]) -> tuple[TableScan, ObjectRef, FileFacts | None, str | None]:
            scan, ref = job
            if self.cancel.is_set():
                return scan, ref, None, None
            if self.object_delay:
                self.cancel.wait(self.object_delay)
            try:
                return scan, ref, read_facts(ref), None
            except Exception as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                return scan, ref, None, f"{ref.url}: cannot read as Parquet ({type(exc).__name__}: {reason})"

        workers = 1 if self.object_delay else FOOTER_WORKERS
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crawl-footer") as pool:
            for scan, ref, facts, error in pool.map(work, jobs):
                if error:
                    scan.errors.append(error)
                elif facts is not None:
                    scan.facts[ref.key] = facts
        self._check_cancel()

    def _apply_table(self, database: FakeDatabase, scan: TableScan) -> None:
        settings = self.settings
        columns = table_columns(scan)
        table_stats = _stats(scan.facts[ref.key] for ref, _ in scan.files)
        params = _crawler_params(settings, table_stats)
        partition_keys = [{"Name": k, "Type": "string"} for k in scan.partition_keys]
        table = database.tables.get(scan.name)
        if table is None:
            table_input = {
                "Name": scan.name,
                "Owner": "owner",
                "Retention": 0,
                "StorageDescriptor": parquet_storage_descriptor(columns, scan.location, params),
                "PartitionKeys": partition_keys,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": params,
                "CreatedBy": f"arn:aws:sts::{self.glue.account_id}:assumed-role/{settings.role}/AWS-Crawler",
                "IsRegisteredWithLakeFormation": False,
            }
            table = FakeTable(database.name, scan.name, table_input, catalog_id=self.glue.account_id)
            tables = OrderedDict(database.tables)
            tables[scan.name] = table
            database.tables = tables
            self.outcome.tables_created += 1
        else:
            current = table.get_version(str(table._current_version))
            if settings.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY":
                columns = current.get("StorageDescriptor", {}).get("Columns", columns)
            else:
                old_cols = current.get("StorageDescriptor", {}).get("Columns", [])
                union, _ = merge_columns(old_cols, columns)
                new_input = _updated_table_input(current, union, scan.location, params, partition_keys)
                if _comparable(new_input) != _comparable(current):
                    if settings.update_behavior == "UPDATE_IN_DATABASE":
                        table.update(new_input)
                        self.outcome.tables_updated += 1
                        columns = union
                    else:
                        log.info(
                            "crawler %s: table %s changed; UpdateBehavior=LOG, not updated", settings.name, scan.name
                        )
                        columns = old_cols
                else:
                    columns = union
        self._apply_partitions(table, scan, columns)

    def _apply_partitions(self, table: FakeTable, scan: TableScan, table_schema: list[Column]) -> None:
        if not scan.partition_keys:
            return
        settings = self.settings
        groups: dict[tuple[str, ...], list[ObjectRef]] = {}
        for ref, values in scan.files:
            if values is not None:
                groups.setdefault(values, []).append(ref)
        partitions = OrderedDict(table.partitions)
        changed = False
        for values, refs in sorted(groups.items()):
            self._check_cancel()
            facts = [scan.facts[r.key] for r in refs]
            cols: list[Column] = []
            for f in facts:
                cols, _ = merge_columns(cols, f.columns)
            if settings.partitions_inherit:
                cols = table_schema
            params = _crawler_params(settings, _stats(facts))
            location = _partition_location(scan.location, scan.partition_keys, values)
            part_input = {
                "Values": list(values),
                "StorageDescriptor": parquet_storage_descriptor(cols, location, params),
                "Parameters": dict(params),
            }
            key = str(list(values))
            existing = partitions.get(key)
            if existing is None:
                partitions[key] = FakePartition(table.database_name, table.name, part_input)
                self.outcome.partitions_created += 1
                changed = True
            elif self._may_update() and _comparable(existing.partition_input) != _comparable(part_input):
                fresh = FakePartition(table.database_name, table.name, part_input)
                fresh.creation_time = existing.creation_time
                partitions[key] = fresh
                self.outcome.partitions_updated += 1
                changed = True
        if settings.recrawl_behavior != "CRAWL_NEW_FOLDERS_ONLY":
            changed |= self._vanished_partitions(partitions, set(groups))
        if changed:
            table.partitions = partitions

    def _vanished_partitions(self, partitions: OrderedDict[str, FakePartition], seen: set[tuple[str, ...]]) -> bool:
        behavior = self.settings.delete_behavior
        changed = False
        for key, part in list(partitions.items()):
            if tuple(part.values) in seen:
                continue
            if behavior == "DELETE_FROM_DATABASE":
                del partitions[key]
                self.outcome.partitions_deleted += 1
                changed = True
            elif behavior == "DEPRECATE_IN_DATABASE":
                params = part.partition_input.get("Parameters") or {}
                if params.get("DEPRECATED_BY_CRAWLER") != self.settings.name:
                    # a new object, never an in-place edit: readers may be serialising the old one
                    new_input = {
                        **part.partition_input,
                        "Parameters": {**params, "DEPRECATED_BY_CRAWLER": self.settings.name},
                    }
                    fresh = FakePartition(part.database_name, part.table_name, new_input)
                    fresh.creation_time = part.creation_time
                    partitions[key] = fresh
                    changed = True
            else:
                log.info(
                    "crawler %s: partition %s has no data any more (DeleteBehavior=LOG)",
                    self.settings.name,
                    part.values,
                )
        return changed

    def _vanished_tables(self, database: FakeDatabase, roots: list[str], seen: set[str]) -> None:
        """Tables this crawler made under a crawled path that no longer has data."""
        behavior = self.settings.delete_behavior
        if behavior == "LOG" or not roots:
            return
        tables = OrderedDict(database.tables)
        changed = False
        for name, table in list(tables.items()):
            current = table.get_version(str(table._current_version))
            params = current.get("Parameters") or {}
            location = (current.get("StorageDescriptor") or {}).get("Location", "")
            if params.get("UPDATED_BY_CRAWLER") != self.settings.name or location in seen:
                continue
            if not any(location.startswith(root) for root in roots):
                continue
            if behavior == "DELETE_FROM_DATABASE":
                del tables[name]
                self.outcome.tables_deleted += 1
                changed = True
            elif params.get("DEPRECATED_BY_CRAWLER") != self.settings.name:
                new_input = dict(current)
                new_input["Parameters"] = {**params, "DEPRECATED_BY_CRAWLER": self.settings.name}
                table.update(new_input)
                self.outcome.tables_updated += 1
        if changed:
            database.tables = tables


def _updated_table_input(
    current: dict[str, Any],
    columns: list[Column],
    location: str,
    params: dict[str, str],
    partition_keys: list[dict[str, str]],
) -> dict[str, Any]:
    """The current table definition with the crawler-owned parts replaced (user fields kept)."""
    new = dict(current)
    sd = dict(current.get("StorageDescriptor") or {})
    sd.update(parquet_storage_descriptor(columns, location, params))
    new["StorageDescriptor"] = sd
    new["PartitionKeys"] = partition_keys
    merged = dict(current.get("Parameters") or {})
    merged.pop("DEPRECATED_BY_CRAWLER", None)
    merged.update(params)
    new["Parameters"] = merged
    return new


def _comparable(table_input: dict[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in table_input.items() if k not in ("UpdateTime", "CreateTime")))
