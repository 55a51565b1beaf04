"""A catalog table as DuckDB sees it: a SELECT over the cached Parquet files of its registered partitions.

Partitions are pruned first with the WHERE conjuncts that use only partition keys (evaluated by
DuckDB over the partition values, typed as Glue declares them); the objects left are copied into
the local cache under ``k=v`` folders, so DuckDB reads partition columns from the paths
(``hive_partitioning``) and skips files by itself. Athena's hidden columns (``"$path"``,
``"$file_size"``, ``"$file_modified_time"``) are joined from the object list only when a query uses them.
"""

from __future__ import annotations

from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
from sqlglot import exp

from local_aws.athena.catalog import Catalog, ObjectRef, PartitionInfo, TableInfo, as_prefix, split_s3_url
from local_aws.athena.engine.context import quote_ident, quote_literal, session_connection
from local_aws.athena.sql.translate import translate_expression
from local_aws.athena.sql.types import parse_hive


def duck_type(glue_type: str) -> str:
    """The DuckDB type a Glue column is read as (its Trino type's DuckDB form)."""
    return parse_hive(glue_type).duckdb()


def _millis(value: str) -> str:
    """A timestamp rounded half up to milliseconds: Athena reads a Glue ``timestamp`` as timestamp(3), and
    Trino's Parquet reader rounds finer values to that precision (TransformingValueDecoders)."""
    return f"make_timestamp((epoch_us({value}) + 500) // 1000 * 1000)"


def _pseudo_values(jobs: list[tuple[ObjectRef, list[tuple[str, str]]]], paths: list[str]) -> str:
    rows = []
    for (obj, _), path in zip(jobs, paths, strict=True):
        modified = obj.modified.isoformat() if obj.modified is not None else "1970-01-01T00:00:00+00:00"
        rows.append(
            f"({quote_literal(path)}, {quote_literal(f's3://{obj.bucket}/{obj.key}')}, CAST({obj.size} AS BIGINT), "
            f"date_trunc('millisecond', CAST({quote_literal(modified)} AS TIMESTAMPTZ)))"
        )
    return f'(VALUES {", ".join(rows)}) AS __files(__file, "$path", "$file_size", "$file_modified_time")'


FETCH_WORKERS = 4


def is_parquet(info: TableInfo) -> bool:
    """Parquet by SerDe, input format or classification (tables without any hint are assumed Parquet)."""
    sd = info.raw.get("StorageDescriptor") or {}
    hints = [
        str(sd.get("InputFormat") or ""),
        str((sd.get("SerdeInfo") or {}).get("SerializationLibrary") or ""),
        str(info.parameters.get("classification") or ""),
    ]
    hints = [h.lower() for h in hints if h]
    return not hints or any("parquet" in h for h in hints)


class TableScans:
    """Builds the SELECT a bound table is replaced by; owns the pool that fetches objects into the cache."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._pool = ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="athena-fetch")

    def view_sql(
        self, info: TableInfo, conjuncts: list[exp.Expression], pseudo: set[str] | None = None
    ) -> tuple[str, int]:
        """(SELECT over the table's files, with the hidden columns in ``pseudo``; bytes scanned)."""
        partitions = self.catalog.partitions(info) if info.partition_keys else []
        partitions = self._prune(info, partitions, conjuncts)
        jobs = []
        for part, objs in self._objects_by_partition(info, partitions):
            hive = list(zip(info.partition_names, part.values, strict=False)) if part else []
            jobs.extend((obj, hive) for obj in objs)
        size = sum(obj.size for obj, _ in jobs)
        if len(jobs) > 8:
            paths = list(self._pool.map(lambda job: self.catalog.materialise(*job), jobs))
        else:
            paths = [self.catalog.materialise(obj, hive) for obj, hive in jobs]
        select_cols: list[str] = []
        hidden = sorted(pseudo or ())
        if not paths:
            for col in info.columns + info.partition_keys:
                select_cols.append(f"CAST(NULL AS {duck_type(col.type)}) AS {quote_ident(col.name)}")
            types = {"$path": "VARCHAR", "$file_size": "BIGINT", "$file_modified_time": "TIMESTAMPTZ"}
            select_cols += [f"CAST(NULL AS {types[h]}) AS {quote_ident(h)}" for h in hidden]
            return f"SELECT {', '.join(select_cols)} WHERE false", 0
        present: dict[str, int] = {}
        fine: set[str] = set()  # timestamp columns some file holds in micro- or nanoseconds
        for path in paths:
            for name, arrow_type in self.catalog.file_columns(path).items():
                present[name] = present.get(name, 0) + 1
                if arrow_type.startswith(("timestamp[us", "timestamp[ns")):
                    fine.add(name)
        union = any(present.get(c.name.lower(), 0) not in (0, len(paths)) for c in info.columns)
        for col in info.columns:
            dtype = duck_type(col.type)
            source = "NULL" if present.get(col.name.lower(), 0) == 0 else quote_ident(col.name)
            value = f"CAST({source} AS {dtype})"
            if dtype == "TIMESTAMP" and col.name.lower() in fine:
                value = _millis(value)
            select_cols.append(f"{value} AS {quote_ident(col.name)}")
        for col in info.partition_keys:
            dtype = duck_type(col.type)
            name = quote_ident(col.name)
            select_cols.append(name if dtype == "VARCHAR" else f"CAST({name} AS {dtype}) AS {name}")
        file_list = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
        options = ["hive_partitioning = " + ("true" if info.partition_keys else "false")]
        if info.partition_keys:
            options.append("hive_types_autocast = false")
        if union:
            options.append("union_by_name = true")
        scan = f"read_parquet({file_list}, {', '.join(options)}{', filename = true' if hidden else ''})"
        if not hidden:
            return f"SELECT {', '.join(select_cols)} FROM {scan}", size
        select_cols += [f"__files.{quote_ident(h)}" for h in hidden]
        joined = f"{scan} AS __data JOIN {_pseudo_values(jobs, paths)} ON __data.filename = __files.__file"
        return f"SELECT {', '.join(select_cols)} FROM {joined}", size

    def _objects_by_partition(
        self, info: TableInfo, partitions: list[PartitionInfo]
    ) -> list[tuple[PartitionInfo | None, list[ObjectRef]]]:
        if not info.partition_keys:
            return [(None, self.catalog.list_objects(info.location))] if info.location else [(None, [])]
        result: list[tuple[PartitionInfo | None, list[ObjectRef]]] = []
        listing: list[ObjectRef] | None = None
        names: list[str] = []
        table_bucket, table_prefix = split_s3_url(info.location) if info.location else ("", "")
        table_prefix = as_prefix(table_prefix)
        for part in partitions:
            bucket, prefix = split_s3_url(part.location)
            prefix = as_prefix(prefix)
            if info.location and bucket == table_bucket and prefix.startswith(table_prefix):
                if listing is None:  # one listing for the whole table, then bisect per partition
                    listing = sorted(self.catalog.list_objects(info.location), key=lambda o: o.key)
                    names = [o.key for o in listing]
                start = bisect_left(names, prefix)
                objs = []
                for obj in listing[start:]:
                    if not obj.key.startswith(prefix):
                        break
                    objs.append(obj)
                result.append((part, objs))
            else:
                result.append((part, self.catalog.list_objects(part.location)))
        return result

    @staticmethod
    def _prune(
        info: TableInfo, partitions: list[PartitionInfo], conjuncts: list[exp.Expression]
    ) -> list[PartitionInfo]:
        if not conjuncts or not partitions:
            return partitions
        keys = info.partition_names
        try:
            data = {k: [p.values[i] if i < len(p.values) else None for p in partitions] for i, k in enumerate(keys)}
            types = {k.name: duck_type(k.type) for k in info.partition_keys}
            arrow = pa.table(
                {
                    **{k: pa.array(v, pa.string()) for k, v in data.items()},
                    "__idx": pa.array(range(len(partitions)), pa.int64()),
                }
            )
            con = session_connection()
            con.register("__parts_raw", arrow)
            cols = ", ".join(f"TRY_CAST({quote_ident(k)} AS {types[k]}) AS {quote_ident(k)}" for k in keys)
            con.execute(f"CREATE TEMP VIEW __parts AS SELECT {cols}, __idx FROM __parts_raw")
            where = " AND ".join(f"({translate_expression(c)})" for c in conjuncts)
            keep = {row[0] for row in con.execute(f"SELECT __idx FROM __parts WHERE {where}").fetchall()}
            con.close()
        except Exception:
            return partitions  # pruning is an optimisation; DuckDB filters the rows anyway
        return [p for i, p in enumerate(partitions) if i in keep]
