"""Statements that write table data: CREATE TABLE AS SELECT and INSERT INTO, as Parquet objects in S3.

The query runs first (``query``), then its rows are written one object per partition and new
partitions are registered in Glue; CTAS registers the table first, with Hive types derived from
the result's Arrow schema (``catalog_types``), as Athena does.
"""

from __future__ import annotations

import io
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from local_aws.athena.catalog import Catalog, TableInfo, as_prefix, split_s3_url
from local_aws.athena.engine.context import QueryContext, Result, empty, quote_ident, quote_literal
from local_aws.athena.engine.ddl import partition_folder, partition_input, properties
from local_aws.athena.engine.query import QueryRunner
from local_aws.athena.engine.resolve import require_database, resolve_table, table_target
from local_aws.athena.engine.scans import duck_type
from local_aws.athena.errors import QueryFailed, not_supported, syntax_error
from local_aws.athena.sql import types as T
from local_aws.athena.sql.coercion import can_coerce
from local_aws.athena.sql.parse import position_of
from local_aws.athena.sql.types import TrinoType, hive_name, parse_hive
from local_aws.catalog_types import parquet_format

HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def ctas(catalog: Catalog, queries: QueryRunner, tree: exp.Create, sql_text: str, ctx: QueryContext) -> Result:
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    db, name = table_target(table, ctx)
    stored_db = require_database(catalog, db)
    if catalog.get_table(stored_db, name) is not None:
        if tree.args.get("exists"):
            return empty(header=True)
        raise QueryFailed(
            "TABLE_ALREADY_EXISTS",
            f"Destination table 'awsdatacatalog.{db}.{name}' already exists",
            position=position_of(sql_text, table.db or table.name),
        )
    fmt = "PARQUET"
    location = None
    partitioned_by: list[str] = []
    compression = "snappy"
    for prop in properties(tree):
        if isinstance(prop, exp.FileFormatProperty):
            fmt = prop.this.name.upper()
        elif isinstance(prop, exp.PartitionedByProperty):
            partitioned_by = [e.name.lower() for e in getattr(prop.this, "expressions", [])]
        elif isinstance(prop, exp.LocationProperty):
            location = prop.this.name
        elif isinstance(prop, exp.Property):
            key = prop.name.lower()
            value = prop.args.get("value")
            text = value.name if isinstance(value, exp.Expression) else str(value)
            if key in ("external_location", "location"):
                location = text
            elif key == "format":
                fmt = text.upper()
            elif key in ("write_compression", "parquet_compression"):
                compression = text.lower()
            elif key == "partitioned_by" and isinstance(value, exp.Array):
                partitioned_by = [e.name.lower() for e in value.expressions]
    if fmt != "PARQUET":
        raise not_supported(f"CTAS format {fmt} (PARQUET only)")
    if location is None:
        if not ctx.output_location:
            raise QueryFailed("USER_ERROR", "No output location provided for the table data")
        bucket, prefix = split_s3_url(ctx.output_location)
        location = f"s3://{bucket}/{as_prefix(prefix)}tables/{ctx.query_id}/"
    location = as_prefix(location)
    if catalog.prefix_has_objects(location):
        raise QueryFailed(
            "HIVE_PATH_ALREADY_EXISTS",
            f"Target directory for table '{db}.{name}' already exists: {location}. You may need to manually "
            "clean the data at location 's3://...' before retrying. Athena will not delete data in your account.",
        )
    analysis = queries.analyze(tree.expression, sql_text, ctx)
    arrow, scanned = queries.arrow(analysis, sql_text, ctx)
    columns = [c.lower() for c in arrow.column_names]
    if partitioned_by and columns[-len(partitioned_by) :] != partitioned_by:
        raise QueryFailed(
            "USER_ERROR",
            "Partition keys must be the last columns in the table and in the same order as the table "
            "properties: " + str(partitioned_by),
        )
    arrow = arrow.rename_columns(columns)
    types = {c: _column_type(c, f.type) for c, f in zip(columns, analysis.fields, strict=True)}
    table_input = {
        "Name": name,
        "StorageDescriptor": {
            "Columns": [{"Name": c, "Type": types[c]} for c in columns if c not in partitioned_by],
            "Location": location.rstrip("/"),
            "Compressed": False,
            **parquet_format(),
        },
        "PartitionKeys": [{"Name": c, "Type": types[c]} for c in partitioned_by],
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "EXTERNAL": "TRUE",
            "classification": "parquet",
            "has_encrypted_data": "false",
            "parquet.compression": compression.upper(),
        },
    }
    catalog.glue.create_table(stored_db, name, table_input)
    info = catalog.get_table(stored_db, name)
    assert info is not None
    _write_rows(catalog, info, arrow, location, ctx, compression)
    return Result([], [], [], data_scanned=scanned, header=True, update_count=arrow.num_rows)


def insert(catalog: Catalog, queries: QueryRunner, tree: exp.Insert, sql_text: str, ctx: QueryContext) -> Result:
    target = tree.this
    column_list: list[str] | None = None
    if isinstance(target, exp.Schema):
        column_list = [c.name.lower() for c in target.expressions]
        target = target.this
    if not isinstance(target, exp.Table):
        # VALUES is reserved in Trino, so `INSERT INTO VALUES (...)` names no table: a parse error there
        word = target.sql(dialect="trino").split(" ", 1)[0].split("(", 1)[0] or "INSERT"
        raise syntax_error(f"mismatched input '{word}'. Expecting: <identifier>", position_of(sql_text, word))
    info = resolve_table(catalog, target, ctx.database, position_of(sql_text, target.name))
    if not info.location:
        raise QueryFailed("USER_ERROR", f"Table {info.database}.{info.name} has no location")
    analysis = queries.analyze(tree.expression, sql_text, ctx)
    all_cols = [c.name.lower() for c in info.columns] + [c.lower() for c in info.partition_names]
    names = column_list or all_cols
    declared = {c.name.lower(): parse_hive(c.type) for c in info.columns + info.partition_keys}
    table_types = [declared[n] for n in names if n in declared]
    query_types = [f.type for f in analysis.fields]
    if len(query_types) != len(table_types) or not all(map(can_coerce, query_types, table_types)):
        raise QueryFailed(
            "TYPE_MISMATCH",
            f"Insert query has mismatched column types: Table: [{', '.join(map(str, table_types))}], "
            f"Query: [{', '.join(map(str, query_types))}]",
        )
    arrow, scanned = queries.arrow(analysis, sql_text, ctx)
    arrow = arrow.rename_columns(names)
    cols = []
    for col in info.columns + info.partition_keys:
        n = col.name.lower()
        cols.append(arrow.column(n) if n in names else pa.nulls(arrow.num_rows))
    arrow = pa.table(cols, names=all_cols)
    # cast data columns to the table's types through DuckDB so Glue types hold
    con = duckdb.connect(":memory:")
    con.register("__ins", arrow)
    projection = ", ".join(
        f"CAST({quote_ident(c.name.lower())} AS {duck_type(c.type)}) AS {quote_ident(c.name.lower())}"
        for c in info.columns
    )
    parts = ", ".join(
        f"CAST({quote_ident(c.lower())} AS VARCHAR) AS {quote_ident(c.lower())}" for c in info.partition_names
    )
    try:
        arrow = con.sql(f"SELECT {projection}{', ' if parts else ''}{parts} FROM __ins").to_arrow_table()
    except duckdb.Error as err:
        raise QueryFailed("TYPE_MISMATCH", f"Insert query has mismatched column types: {err}") from err
    finally:
        con.close()
    _write_rows(catalog, info, arrow, as_prefix(info.location), ctx, "snappy")
    return Result([], [], [], data_scanned=scanned, header=True, update_count=arrow.num_rows)


def _column_type(name: str, t: TrinoType) -> str:
    """The Hive type Glue records for a CTAS column, as Trino's HiveTypeTranslator writes it."""
    if _has_anonymous_row(t):
        raise QueryFailed(
            "NOT_SUPPORTED", f"Anonymous row type is not supported in Hive. Please give each field a name: {t}"
        )
    if t.base in ("unknown", "json", "uuid", "time", T.TZ, T.INTERVAL_DS, T.INTERVAL_YM):
        raise QueryFailed("NOT_SUPPORTED", f"Unsupported Hive type: {t} (column {name})")
    return hive_name(t)


def _has_anonymous_row(t: TrinoType) -> bool:
    if t.base == "row":
        return any(n is None or _has_anonymous_row(ft) for n, ft in t.fields)
    return any(_has_anonymous_row(c) for c in (t.args if t.base in ("array", "map") else ()))


def _write_rows(catalog: Catalog, info: TableInfo, arrow: pa.Table, location: str, ctx: QueryContext, compression: str):
    """Write Parquet objects (one per partition) and register new partitions in Glue."""
    bucket, prefix = split_s3_url(location)
    prefix = as_prefix(prefix)
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    keys = info.partition_names
    if not keys:
        catalog.put_object(bucket, f"{prefix}{stamp}_{ctx.query_id}_0.parquet", _parquet(arrow, compression))
        return
    key_columns = [k.lower() for k in keys]
    data_names = [c for c in arrow.column_names if c not in key_columns]
    con = duckdb.connect(":memory:")
    con.register("__rows", arrow)
    groups = con.execute(f"SELECT DISTINCT {', '.join(quote_ident(k) for k in key_columns)} FROM __rows").fetchall()
    existing = {tuple(p.values) for p in catalog.partitions(info)}
    new_parts = []
    for n, values in enumerate(groups):
        cond = " AND ".join(
            f"{quote_ident(k)} IS NULL" if v is None else f"{quote_ident(k)} = {quote_literal(str(v))}"
            for k, v in zip(key_columns, values, strict=True)
        )
        part = con.execute(
            f"SELECT {', '.join(quote_ident(c) for c in data_names)} FROM __rows WHERE {cond}"
        ).to_arrow_table()
        str_values = [HIVE_DEFAULT_PARTITION if v is None else str(v) for v in values]
        folder = partition_folder(keys, str_values)
        catalog.put_object(bucket, f"{prefix}{folder}/{stamp}_{ctx.query_id}_{n}.parquet", _parquet(part, compression))
        if tuple(str_values) not in existing:
            new_parts.append(partition_input(info, str_values, f"s3://{bucket}/{prefix}{folder}/"))
    con.close()
    if new_parts:
        catalog.glue.batch_create_partition(info.database, info.name, new_parts)


def _parquet(table: pa.Table, compression: str) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression=None if compression in ("none", "uncompressed") else compression)
    return buf.getvalue()
