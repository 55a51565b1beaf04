"""What is in S3 under a crawler's targets: listing, exclusions, table/partition layout, footers.

Why separate from the catalog writes: this half only reads moto's S3 backend (bodies straight
from their files when the store is on disk, footer only) and decides the table layout the way
AWS's crawler does; ``crawler.py`` turns that into catalog changes.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from moto.s3.models import FakeKey, S3Backend

from local_aws.catalog_types import Column, columns_of
from local_aws.glue.crawl_types import CrawlSettings
from local_aws.glue.schema import compatible, merge_columns
from local_aws.s3.bodies import body_path

log = logging.getLogger(__name__)


@dataclass
class ObjectRef:
    bucket: str
    key: str
    size: int
    fake_key: FakeKey

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class FileFacts:
    columns: list[Column]
    rows: int
    size: int
    compression: str


@dataclass
class TableScan:
    """One table the crawl found: its root folder and its files with their partition values."""

    name: str
    location: str
    partition_keys: list[str]
    files: list[tuple[ObjectRef, tuple[str, ...] | None]] = field(default_factory=list)
    facts: dict[str, FileFacts] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# listing and grouping
# ---------------------------------------------------------------------------------------------


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Glue exclusion globs: ``*`` within a folder, ``**`` across folders, ``?``, ``[..]``, ``{a,b}``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "{":
            end = pattern.find("}", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                alts = pattern[i + 1 : end].split(",")
                out.append("(?:" + "|".join(fnmatch.translate(a)[4:-3] for a in alts) + ")")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def parse_s3_path(path: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, ``some/prefix``)."""
    if not path.startswith("s3://"):
        raise ValueError(f"S3 target path must start with s3://, got {path!r}")
    rest = path[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"S3 target path has no bucket: {path!r}")
    return bucket, prefix


def ignored(relative: str) -> bool:
    """AWS skips hidden/metadata files and folders (``_SUCCESS``, ``_manifests/``, ``.tmp``)."""
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def sanitize(name: str) -> str:
    """Catalog table names: lower case, characters outside ``[a-z0-9_]`` become ``_``."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def _partition_key(segment: str, index: int) -> tuple[str, str]:
    if "=" in segment:
        k, _, v = segment.partition("=")
        return k.lower(), v
    return f"partition_{index}", segment


def list_target(s3: S3Backend, bucket_name: str, prefix: str, exclusions: list[str]) -> list[ObjectRef]:
    """Objects under the include path that a crawler would look at, sorted by key."""
    bucket = s3.buckets.get(bucket_name)
    if bucket is None:
        raise LookupError(f"S3 bucket {bucket_name} does not exist")
    patterns = [glob_to_regex(p) for p in exclusions or []]
    refs: list[ObjectRef] = []
    for name, versions in list(bucket.keys.iterlists()):
        if not name.startswith(prefix) or not versions:
            continue
        key = versions[-1]
        if not isinstance(key, FakeKey):  # a delete marker
            continue
        relative = name[len(prefix) :]
        if not relative or name.endswith("/") or name.endswith("_$folder$") or key.contentsize == 0:
            continue  # folder placeholders and empty files
        if ignored(relative) or any(p.match(relative) for p in patterns):
            continue
        refs.append(ObjectRef(bucket_name, name, key.contentsize, key))
    refs.sort(key=lambda r: r.key)
    return refs


def group_tables(settings: CrawlSettings, bucket: str, prefix: str, refs: list[ObjectRef]) -> list[TableScan]:
    """One table per data folder directly under the include path (or per configured level)."""
    tables: dict[str, TableScan] = {}
    include_name = prefix.rstrip("/").rsplit("/", 1)[-1] or bucket
    level = settings.table_level
    for ref in refs:
        dirs = ref.key.split("/")[:-1]
        if level is not None:
            depth = level - 1  # level 1 is the bucket itself
            if len(dirs) < depth:
                continue
            root_dirs, part_dirs = dirs[:depth], dirs[depth:]
            name = root_dirs[-1] if root_dirs else bucket
        else:
            prefix_dirs = [d for d in prefix.split("/") if d]
            rel_dirs = dirs[len(prefix_dirs) :]
            if not rel_dirs or "=" in rel_dirs[0]:
                root_dirs, part_dirs, name = prefix_dirs, rel_dirs, include_name
            else:
                root_dirs, part_dirs, name = [*prefix_dirs, rel_dirs[0]], rel_dirs[1:], rel_dirs[0]
        location = f"s3://{bucket}/" + "".join(f"{d}/" for d in root_dirs)
        scan = tables.get(location)
        if scan is None:
            keys = [_partition_key(seg, i)[0] for i, seg in enumerate(part_dirs)]
            scan = tables[location] = TableScan(sanitize(settings.table_prefix + name), location, keys)
        values = tuple(_partition_key(seg, i)[1] for i, seg in enumerate(part_dirs))
        keys = [_partition_key(seg, i)[0] for i, seg in enumerate(part_dirs)]
        if keys != scan.partition_keys:
            scan.files.append((ref, None))  # not in the table's partition layout: counted, no partition
        else:
            scan.files.append((ref, values if keys else None))
    return list(tables.values())


def combine(settings: CrawlSettings, bucket: str, prefix: str, scans: list[TableScan]) -> list[TableScan]:
    """CombineCompatibleSchemas: sibling folders with compatible schemas become one table whose
    first partition key, ``partition_0``, is the folder name (as AWS does)."""
    if len(scans) < 2 or any(s.errors for s in scans):
        return scans
    if len({tuple(s.partition_keys) for s in scans}) != 1:
        return scans
    merged: list[Column] = []
    for scan in scans:
        cols = table_columns(scan)
        if not compatible(merged, cols):
            return scans
        merged, _ = merge_columns(merged, cols)
    include_name = prefix.rstrip("/").rsplit("/", 1)[-1] or bucket
    location = f"s3://{bucket}/{prefix}"
    keys = ["partition_0", *[k for k in scans[0].partition_keys]]
    out = TableScan(sanitize(settings.table_prefix + include_name), location, keys)
    for scan in scans:
        folder = scan.location.rstrip("/").rsplit("/", 1)[-1]
        for ref, values in scan.files:
            out.files.append((ref, (folder, *values) if values is not None else (folder,)))
        out.facts.update(scan.facts)
    return [out]


# ---------------------------------------------------------------------------------------------
# reading footers
# ---------------------------------------------------------------------------------------------


def read_facts(ref: ObjectRef) -> FileFacts:
    """Schema, row count and codec from the Parquet footer (the body file is not read whole)."""
    path: Path | None = body_path(ref.fake_key)
    source: Any = str(path) if path is not None else pa.BufferReader(ref.fake_key.value)
    meta = pq.read_metadata(source)
    compression = "none"
    if meta.num_row_groups and meta.num_columns:
        codec = str(meta.row_group(0).column(0).compression).lower()
        compression = "none" if codec in ("uncompressed", "none") else codec
    return FileFacts(columns_of(meta.schema.to_arrow_schema()), meta.num_rows, ref.size, compression)


def table_columns(scan: TableScan) -> list[Column]:
    cols: list[Column] = []
    for ref, _values in scan.files:
        facts = scan.facts.get(ref.key)
        if facts is not None:
            cols, conflicts = merge_columns(cols, facts.columns)
            for conflict in conflicts:
                log.warning("table %s: type conflict in %s (%s); keeping the first type", scan.name, ref.url, conflict)
    return cols
