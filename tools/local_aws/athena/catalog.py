"""Glue catalog resolution and S3 object materialisation for the Athena engine.

Athena only sees what Glue says: a table's columns, its partition keys and the partitions Glue
has registered (an unregistered folder is invisible). Objects are read through moto's S3 backend
API and copied once into a local cache keyed by bucket/key/etag, laid out as Hive folders built
from the *Glue* partition values, so DuckDB can scan them with ``hive_partitioning`` (partition
columns arrive as VARCHAR, as Athena gives string partition keys) and prune files itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyarrow.parquet as pq
from moto.glue.models import GlueBackend, glue_backends
from moto.s3.models import S3Backend
from sqlglot import exp

from local_aws.s3.models import s3_backend

# Hive/Glue type -> DuckDB type for the simple names; nested types go through sqlglot.
_SIMPLE_TYPES = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}


def glue_to_duckdb_type(glue_type: str) -> str:
    """Translate a Glue (Hive DDL) column type to DuckDB's spelling."""
    t = glue_type.strip().lower()
    base = t.split("(")[0].strip()
    if base in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[base]
    try:
        return exp.DataType.build(t, dialect="hive").sql(dialect="duckdb")
    except Exception:
        return "VARCHAR"


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix); accepts s3a/s3n too."""
    for scheme in ("s3://", "s3a://", "s3n://"):
        if url.startswith(scheme):
            rest = url[len(scheme) :]
            bucket, _, prefix = rest.partition("/")
            return bucket, prefix
    raise ValueError(f"not an S3 URL: {url}")


def as_prefix(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


@dataclass
class ColumnInfo:
    name: str
    type: str  # Glue/Hive spelling
    comment: str | None = None


@dataclass
class TableInfo:
    database: str
    name: str
    columns: list[ColumnInfo]
    partition_keys: list[ColumnInfo]
    location: str | None
    parameters: dict[str, str]
    table_type: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    create_time: Any = None

    @property
    def partition_names(self) -> list[str]:
        return [c.name for c in self.partition_keys]


@dataclass
class PartitionInfo:
    values: list[str]
    location: str


@dataclass
class ObjectRef:
    bucket: str
    key: str
    etag: str
    size: int
    modified: Any = None  # datetime of the object's last write (the "$file_modified_time" column)


def is_data_key(key: str) -> bool:
    """Hive/Athena ignore folder markers and files starting with ``_`` or ``.``."""
    if key.endswith("/") or key.endswith("_$folder$"):
        return False
    base = key.rsplit("/", 1)[-1]
    return bool(base) and not base.startswith(("_", "."))


class Catalog:
    """Glue + S3 access for one account/region, plus the local object cache."""

    def __init__(self, account_id: str, region: str, cache_dir: str | None = None) -> None:
        self.account_id = account_id
        self.region = region
        self.cache_dir = cache_dir or tempfile.mkdtemp(prefix="local-athena-cache-")
        if "=" in self.cache_dir:  # would confuse Hive path parsing
            self.cache_dir = tempfile.mkdtemp(prefix="local-athena-cache-")
        os.makedirs(self.cache_dir, exist_ok=True)
        self._lock = threading.Lock()
        self._files: dict[tuple[str, ...], str] = {}
        self._by_slot: dict[tuple[str, ...], str] = {}
        self._schemas: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------ backends
    @property
    def glue(self) -> GlueBackend:
        return glue_backends[self.account_id][self.region]

    @property
    def s3(self) -> S3Backend:
        return s3_backend(self.account_id)

    # ------------------------------------------------------------------ Glue reads
    def database_name(self, name: str) -> str | None:
        """The stored name of a Glue database, matched case-insensitively (Athena lowercases)."""
        dbs = self.glue.databases
        if name in dbs:
            return name
        lowered = name.lower()
        for stored in list(dbs):
            if stored.lower() == lowered:
                return stored
        return None

    def databases(self) -> list[Any]:
        return list(self.glue.databases.values())

    def table_names(self, database: str) -> list[str]:
        stored = self.database_name(database)
        if stored is None:
            return []
        return list(self.glue.databases[stored].tables)

    def get_table(self, database: str, name: str) -> TableInfo | None:
        stored_db = self.database_name(database)
        if stored_db is None:
            return None
        tables = self.glue.databases[stored_db].tables
        table = tables.get(name)
        if table is None:
            for stored, candidate in list(tables.items()):
                if stored.lower() == name.lower():
                    table = candidate
                    break
        if table is None:
            return None
        raw = table.as_dict()
        sd = raw.get("StorageDescriptor") or {}
        return TableInfo(
            database=stored_db,
            name=table.name,
            columns=[ColumnInfo(c["Name"], c.get("Type", "string"), c.get("Comment")) for c in sd.get("Columns", [])],
            partition_keys=[
                ColumnInfo(c["Name"], c.get("Type", "string"), c.get("Comment"))
                for c in raw.get("PartitionKeys", []) or []
            ],
            location=sd.get("Location"),
            parameters=dict(raw.get("Parameters") or {}),
            table_type=raw.get("TableType") or "EXTERNAL_TABLE",
            raw=raw,
            create_time=raw.get("CreateTime"),
        )

    def partitions(self, table: TableInfo) -> list[PartitionInfo]:
        """Partitions registered in Glue (only these are visible to queries)."""
        glue_table = self.glue.get_table(table.database, table.name)
        result = []
        for part in list(glue_table.partitions.values()):
            sd = part.partition_input.get("StorageDescriptor") or {}
            location = sd.get("Location")
            if not location and table.location:
                suffix = "/".join(f"{k}={v}" for k, v in zip(table.partition_names, part.values, strict=False))
                location = as_prefix(table.location) + suffix + "/"
            if location:
                result.append(PartitionInfo([str(v) for v in part.values], location))
        return result

    # ------------------------------------------------------------------ S3 reads
    def list_objects(self, location: str) -> list[ObjectRef]:
        """Data objects under an S3 prefix (through the backend API)."""
        bucket, prefix = split_s3_url(location)
        prefix = as_prefix(prefix)
        try:
            bucket_obj = self.s3.get_bucket(bucket)
        except Exception:
            return []
        for attempt in range(5):
            try:
                keys, _, _, _ = self.s3.list_objects(bucket_obj, prefix or None, None, None, None)
                break
            except RuntimeError:  # dict changed size during iteration (concurrent PUT)
                time.sleep(0.01 * (attempt + 1))
        else:
            keys = []
        return [
            ObjectRef(bucket, k.name, k.etag, k.size, getattr(k, "last_modified", None))
            for k in keys
            if is_data_key(k.name[len(prefix) :] if prefix else k.name)
        ]

    def prefix_has_objects(self, location: str) -> bool:
        bucket, prefix = split_s3_url(location)
        try:
            bucket_obj = self.s3.get_bucket(bucket)
        except Exception:
            return False
        keys, _, _, _ = self.s3.list_objects(bucket_obj, as_prefix(prefix) or None, None, None, 1)
        return bool(keys)

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.s3.get_bucket(bucket)
            return True
        except Exception:
            return False

    def read_object(self, bucket: str, key: str) -> bytes:
        obj = self.s3.get_object(bucket, key)
        if obj is None:
            raise FileNotFoundError(f"s3://{bucket}/{key}")
        return bytes(obj.value)

    def put_object(self, bucket: str, key: str, data: bytes) -> None:
        self.s3.put_object(bucket, key, data)

    # ------------------------------------------------------------------ materialisation
    def materialise(self, obj: ObjectRef, hive_parts: list[tuple[str, str]]) -> str:
        """Local path of an object's bytes, under ``k=v`` folders for the Glue partition values.

        Keyed by bucket/key/etag, so a rewritten object is fetched again and a repeated query is
        served from disk.
        """
        cache_key = (obj.bucket, obj.key, obj.etag, *(f"{k}={v}" for k, v in hive_parts))
        path = self._files.get(cache_key)
        if path is not None and os.path.exists(path):
            return path
        digest = hashlib.sha1(f"{obj.bucket}/{obj.key}/{obj.etag}".encode()).hexdigest()
        folders = [f"{k}={quote(v, safe='')}" for k, v in hive_parts]
        directory = (
            os.path.join(self.cache_dir, "objects", *folders) if folders else os.path.join(self.cache_dir, "flat")
        )
        path = os.path.join(directory, f"{digest}.parquet")
        if not os.path.exists(path):
            data = self.read_object(obj.bucket, obj.key)
            os.makedirs(directory, exist_ok=True)
            tmp = f"{path}.{threading.get_ident()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        with self._lock:
            self._files[cache_key] = path
            # an overwritten object leaves its previous copy behind: drop it
            slot = (obj.bucket, obj.key, *cache_key[3:])
            previous = self._by_slot.get(slot)
            self._by_slot[slot] = path
        if previous and previous != path:
            with contextlib.suppress(OSError):
                os.remove(previous)
        return path

    def file_columns(self, path: str) -> dict[str, str]:
        """Lower-cased column name -> Arrow type string of a cached Parquet file (footer only)."""
        cached = self._schemas.get(path)
        if cached is not None:
            return cached
        try:
            schema = pq.read_schema(path)
            columns = {name.lower(): str(schema.field(name).type) for name in schema.names}
        except Exception:
            columns = {}
        with self._lock:
            self._schemas[path] = columns
        return columns
