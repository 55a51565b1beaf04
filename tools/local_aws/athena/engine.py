"""Execute one Athena statement: DuckDB over Glue-registered partitions, plus DDL, CTAS and INSERT.

Queries get a fresh in-memory DuckDB connection (so a worker can be interrupted on
StopQueryExecution without touching others). Each catalog table a query names becomes a temp view
over the cached Parquet files of its *registered* partitions, after pruning those partitions with
the WHERE conjuncts that only use partition keys. DDL goes straight to moto's Glue backend.
"""

from __future__ import annotations

import io
import re
import threading
import time
from bisect import bisect_left
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from . import sql as athena_sql
from .catalog import (
    Catalog,
    ObjectRef,
    PartitionInfo,
    TableInfo,
    as_prefix,
    duckdb_to_glue_type,
    glue_to_duckdb_type,
    split_s3_url,
)
from .errors import CATEGORY_SYSTEM, TYPE_DDL, TYPE_INTERNAL, TYPE_USER, QueryFailed

PARQUET_SD = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}


@dataclass
class QueryContext:
    """What one execution needs besides the SQL: defaults, identity, output and cancellation."""

    query_id: str
    database: str | None
    catalog_name: str | None
    output_location: str | None
    parameters: Sequence[str] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    connection: Any = None  # the live DuckDB connection, for interrupt()


@dataclass
class Result:
    columns: list[str]
    types: list[str]  # DuckDB type names
    rows: list[tuple[Any, ...]]
    data_scanned: int = 0
    header: bool = True  # DML results carry a header row; DDL/UTILITY ones do not
    update_count: int | None = None  # rows written by CTAS / INSERT INTO


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Engine:
    """Statement dispatcher over one :class:`Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="athena-fetch")

    # ================================================================== entry point
    def execute(self, raw_sql: str, ctx: QueryContext) -> Result:
        sql_text = athena_sql.substitute_parameters(raw_sql, ctx.parameters)
        body = athena_sql.strip_comments(sql_text).rstrip(";").strip()
        handler = self._regex_handler(body)
        if handler is not None:
            return handler(body, ctx)
        tree = athena_sql.parse_statement(sql_text)
        if isinstance(tree, exp.Create):
            kind = (tree.args.get("kind") or "").upper()
            if kind in ("DATABASE", "SCHEMA"):
                return self._create_database(tree)
            if kind == "TABLE" and tree.args.get("expression") is not None:
                return self._ctas(tree, sql_text, ctx)
            if kind == "TABLE":
                return self._create_table(tree, ctx)
            raise QueryFailed("NOT_SUPPORTED", f"CREATE {kind} is not supported by the local endpoint")
        if isinstance(tree, exp.Drop):
            return self._drop(tree, ctx)
        if isinstance(tree, exp.Insert):
            return self._insert(tree, sql_text, ctx)
        if isinstance(tree, exp.Describe):
            return self._describe(tree, ctx)
        if isinstance(tree, exp.Query):
            return self.run_query(tree, sql_text, ctx)
        if isinstance(tree, exp.Command):
            raise athena_sql.syntax_error(
                f"mismatched input '{tree.name.split()[0] if tree.name else ''}'. Expecting: statement", (1, 1)
            )
        raise QueryFailed("NOT_SUPPORTED", f"Statement not supported: {type(tree).__name__}")

    # ================================================================== SELECT
    def run_query(self, tree: exp.Expression, sql_text: str, ctx: QueryContext) -> Result:
        con = self._connect(ctx)
        try:
            tree = tree.copy()
            scanned, dates = self._bind_tables(con, tree, sql_text, ctx)
            athena_sql.name_output_columns(tree)
            duck_sql = athena_sql.translate(tree, dates)
            try:
                rel = con.execute(duck_sql)
                columns = [d[0] for d in rel.description or []]
                types = [str(d[1]) for d in rel.description or []]
                rows = rel.fetchall()
            except duckdb.Error as err:
                raise self._duckdb_error(err, sql_text, ctx) from err
            return Result(columns, types, rows, data_scanned=scanned)
        finally:
            ctx.connection = None
            con.close()

    def query_arrow(self, tree: exp.Expression, sql_text: str, ctx: QueryContext) -> tuple[pa.Table, int]:
        """Run a query and return Arrow (for CTAS/INSERT), with HUGEINT sums narrowed to BIGINT."""
        con = self._connect(ctx)
        try:
            tree = tree.copy()
            scanned, dates = self._bind_tables(con, tree, sql_text, ctx)
            athena_sql.name_output_columns(tree)
            duck_sql = athena_sql.translate(tree, dates)
            try:
                rel = con.sql(duck_sql)
                casts = []
                for name, dtype in zip(rel.columns, rel.types, strict=True):
                    t = str(dtype).upper()
                    target = {"HUGEINT": "BIGINT", "UBIGINT": "BIGINT", "UINTEGER": "BIGINT"}.get(t)
                    if t.startswith("TIMESTAMP"):
                        target = "TIMESTAMP_MS"
                    casts.append(f"CAST({_q(name)} AS {target}) AS {_q(name)}" if target else _q(name))
                table = rel.select(", ".join(casts)).to_arrow_table()
            except duckdb.Error as err:
                raise self._duckdb_error(err, sql_text, ctx) from err
            return table, scanned
        finally:
            ctx.connection = None
            con.close()

    def _connect(self, ctx: QueryContext) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        for setting in athena_sql.SESSION_SETTINGS:
            con.execute(setting)
        ctx.connection = con
        if ctx.cancelled.is_set():
            raise QueryFailed("USER_CANCELED", "Query was canceled by user")
        return con

    def _resolve(self, table: exp.Table, sql_text: str, ctx: QueryContext) -> TableInfo:
        catalog = table.catalog
        if catalog and catalog.lower() != "awsdatacatalog":
            raise QueryFailed(
                "CATALOG_NOT_FOUND",
                f"Catalog '{catalog.lower()}' does not exist",
                position=athena_sql.position_of(sql_text, catalog),
            )
        db = table.db or ctx.database or "default"
        info = self.catalog.get_table(db, table.name)
        if info is not None:
            return info
        first = table.catalog or table.db or table.name
        pos = athena_sql.position_of(sql_text, first)
        if self.catalog.database_name(db) is None:
            raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{db.lower()}' does not exist", position=pos)
        raise QueryFailed(
            "TABLE_NOT_FOUND",
            f"Table 'awsdatacatalog.{db.lower()}.{table.name.lower()}' does not exist",
            position=pos,
        )

    def _bind_tables(
        self, con: duckdb.DuckDBPyConnection, tree: exp.Expression, sql_text: str, ctx: QueryContext
    ) -> tuple[int, set[str]]:
        """Replace each catalog table in ``tree`` by a temp view over its pruned partitions."""
        scanned = 0
        dates: set[str] = set()
        for i, table in enumerate(athena_sql.catalog_tables(tree)):
            view = f"__athena_t{i}"
            if (table.db or ctx.database or "").lower() == "information_schema":
                self._information_schema(con, view, table, sql_text)
                self._replace_table(table, view)
                continue
            info = self._resolve(table, sql_text, ctx)
            if not _is_parquet(info):
                raise QueryFailed(
                    "HIVE_UNSUPPORTED_FORMAT",
                    f"Table '{info.database}.{info.name}' is not stored as Parquet; the local Athena "
                    "endpoint reads Parquet tables only",
                    error_type=1001,
                )
            conjuncts = athena_sql.partition_conjuncts(table, info.partition_names)
            view_sql, size = self._view_sql(info, conjuncts)
            scanned += size
            try:
                con.execute(f"CREATE TEMP VIEW {view} AS {view_sql}")
            except duckdb.Error as err:
                raise QueryFailed(
                    "HIVE_BAD_DATA", f"Error reading table {info.database}.{info.name}: {err}", error_type=1001
                ) from err
            dates.update(c.name.lower() for c in info.columns if c.type.lower() == "date")
            self._replace_table(table, view)
        return scanned, dates

    @staticmethod
    def _replace_table(table: exp.Table, view: str) -> None:
        """Point a table reference at a temp view, keeping the name it is referred to by."""
        alias = table.alias or table.name
        replacement = exp.Table(this=exp.to_identifier(view))
        replacement.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        for key in ("joins", "laterals", "pivots", "sample"):
            if table.args.get(key):
                replacement.set(key, table.args[key])
        if table.alias and table.args["alias"].columns:
            replacement.set("alias", table.args["alias"].copy())
        table.replace(replacement)

    def _information_schema(self, con: duckdb.DuckDBPyConnection, view: str, table: exp.Table, sql_text: str) -> None:
        """information_schema.schemata/tables/columns built from Glue, as Athena serves them."""
        name = table.name.lower()
        schemata, tables, columns = [], [], []
        for db in self.catalog.databases():
            schemata.append(("awsdatacatalog", db.name))
            for tname in self.catalog.table_names(db.name):
                info = self.catalog.get_table(db.name, tname)
                if info is None:
                    continue
                kind = "VIEW" if info.table_type == "VIRTUAL_VIEW" else "BASE TABLE"
                tables.append(("awsdatacatalog", db.name, info.name, kind))
                for pos, col in enumerate(info.columns + info.partition_keys, start=1):
                    extra = "partition key" if col in info.partition_keys else None
                    columns.append(
                        ("awsdatacatalog", db.name, info.name, col.name, pos, None, "YES", col.type,
                         col.comment, extra)
                    )  # fmt: skip
        layouts = {
            "schemata": (["catalog_name", "schema_name"], schemata),
            "tables": (["table_catalog", "table_schema", "table_name", "table_type"], tables),
            "columns": (
                ["table_catalog", "table_schema", "table_name", "column_name", "ordinal_position",
                 "column_default", "is_nullable", "data_type", "comment", "extra_info"],
                columns,
            ),
        }  # fmt: skip
        if name not in layouts:
            raise QueryFailed(
                "TABLE_NOT_FOUND",
                f"Table 'awsdatacatalog.information_schema.{name}' does not exist",
                position=athena_sql.position_of(sql_text, table.db or table.name),
            )
        names, data = layouts[name]
        arrow = pa.table(
            {
                n: pa.array([row[i] for row in data], pa.int64() if n == "ordinal_position" else pa.string())
                for i, n in enumerate(names)
            }
        )
        con.register(f"{view}_data", arrow)
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {view}_data")

    # ------------------------------------------------------------------ views over Parquet
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

    def _prune(self, info: TableInfo, partitions: list[PartitionInfo], conjuncts: list[exp.Expression]):
        if not conjuncts or not partitions:
            return partitions
        keys = info.partition_names
        try:
            data = {k: [p.values[i] if i < len(p.values) else None for p in partitions] for i, k in enumerate(keys)}
            types = {k.name: glue_to_duckdb_type(k.type) for k in info.partition_keys}
            arrow = pa.table(
                {
                    **{k: pa.array(v, pa.string()) for k, v in data.items()},
                    "__idx": pa.array(range(len(partitions)), pa.int64()),
                }
            )
            con = duckdb.connect(":memory:")
            for setting in athena_sql.SESSION_SETTINGS:
                con.execute(setting)
            con.register("__parts_raw", arrow)
            cols = ", ".join(f"TRY_CAST({_q(k)} AS {types[k]}) AS {_q(k)}" for k in keys)
            con.execute(f"CREATE TEMP VIEW __parts AS SELECT {cols}, __idx FROM __parts_raw")
            where = " AND ".join(f"({athena_sql.translate(c)})" for c in conjuncts)
            keep = {row[0] for row in con.execute(f"SELECT __idx FROM __parts WHERE {where}").fetchall()}
            con.close()
        except Exception:
            return partitions  # pruning is an optimisation; DuckDB filters the rows anyway
        return [p for i, p in enumerate(partitions) if i in keep]

    def _view_sql(self, info: TableInfo, conjuncts: list[exp.Expression]) -> tuple[str, int]:
        partitions = self.catalog.partitions(info) if info.partition_keys else []
        partitions = self._prune(info, partitions, conjuncts)
        groups = self._objects_by_partition(info, partitions)
        jobs = []
        for part, objs in groups:
            hive = list(zip(info.partition_names, part.values, strict=False)) if part else []
            jobs.extend((obj, hive) for obj in objs)
        size = sum(obj.size for obj, _ in jobs)
        if len(jobs) > 8:
            paths = list(self._pool.map(lambda job: self.catalog.materialise(*job), jobs))
        else:
            paths = [self.catalog.materialise(obj, hive) for obj, hive in jobs]
        select_cols: list[str] = []
        if not paths:
            for col in info.columns + info.partition_keys:
                select_cols.append(f"CAST(NULL AS {glue_to_duckdb_type(col.type)}) AS {_q(col.name)}")
            return f"SELECT {', '.join(select_cols)} WHERE false", 0
        present: dict[str, int] = {}
        for path in paths:
            for name in self.catalog.file_columns(path):
                present[name] = present.get(name, 0) + 1
        union = any(present.get(c.name.lower(), 0) not in (0, len(paths)) for c in info.columns)
        for col in info.columns:
            dtype = glue_to_duckdb_type(col.type)
            if present.get(col.name.lower(), 0) == 0:
                select_cols.append(f"CAST(NULL AS {dtype}) AS {_q(col.name)}")
            else:
                select_cols.append(f"CAST({_q(col.name)} AS {dtype}) AS {_q(col.name)}")
        for col in info.partition_keys:
            dtype = glue_to_duckdb_type(col.type)
            select_cols.append(
                f"{_q(col.name)}" if dtype == "VARCHAR" else f"CAST({_q(col.name)} AS {dtype}) AS {_q(col.name)}"
            )
        file_list = "[" + ", ".join(_lit(p) for p in paths) + "]"
        options = ["hive_partitioning = " + ("true" if info.partition_keys else "false")]
        if info.partition_keys:
            options.append("hive_types_autocast = false")
        if union:
            options.append("union_by_name = true")
        return f"SELECT {', '.join(select_cols)} FROM read_parquet({file_list}, {', '.join(options)})", size

    # ------------------------------------------------------------------ error mapping
    def _duckdb_error(self, err: duckdb.Error, sql_text: str, ctx: QueryContext) -> QueryFailed:
        msg = str(err)
        if ctx.cancelled.is_set() or isinstance(err, duckdb.InterruptException):
            return QueryFailed("USER_CANCELED", "Query was canceled by user")
        m = re.search(r'Referenced column "([^"]+)" not found', msg) or re.search(
            r'column "?([^"\s]+)"? (?:not found|does not exist)', msg
        )
        if m:
            col = m.group(1)
            return QueryFailed(
                "COLUMN_NOT_FOUND",
                f"Column '{col}' cannot be resolved",
                position=athena_sql.position_of(sql_text, col),
            )
        m = re.search(r"Referenced table \"([^\"]+)\" not found", msg)
        if m:
            return QueryFailed(
                "COLUMN_NOT_FOUND",
                f"Column prefix '{m.group(1)}' cannot be resolved",
                position=athena_sql.position_of(sql_text, m.group(1)),
            )
        m = re.search(r"(?:Scalar|Aggregate|Table) Function with name (\w+) does not exist", msg)
        if m:
            name = m.group(1)
            return QueryFailed(
                "FUNCTION_NOT_FOUND",
                f"Function '{name}' not registered",
                position=athena_sql.position_of(sql_text, name),
            )
        m = re.search(r'column "?([^"\s]+)"? must appear in the GROUP BY clause', msg)
        if m:
            return QueryFailed(
                "EXPRESSION_NOT_AGGREGATE",
                f"'{m.group(1)}' must be an aggregate expression or appear in GROUP BY clause",
                position=athena_sql.position_of(sql_text, m.group(1)),
            )
        first = msg.splitlines()[0] if msg else type(err).__name__
        if "Division by zero" in msg:
            return QueryFailed("DIVISION_BY_ZERO", "Division by zero", error_type=1001)
        if isinstance(err, duckdb.ConversionException):
            return QueryFailed("INVALID_CAST_ARGUMENT", first, error_type=1001)
        if isinstance(err, duckdb.ParserException):
            return athena_sql.syntax_error(first)
        if isinstance(err, duckdb.BinderException):
            if "No function matches" in msg:
                return QueryFailed("FUNCTION_NOT_FOUND", first)
            return QueryFailed("SYNTAX_ERROR", first)
        if isinstance(err, (duckdb.InvalidInputException, duckdb.OutOfRangeException)):
            return QueryFailed("INVALID_FUNCTION_ARGUMENT", first, error_type=TYPE_USER)
        return QueryFailed("GENERIC_INTERNAL_ERROR", first, error_type=TYPE_INTERNAL, category=CATEGORY_SYSTEM)

    # ================================================================== DDL via Glue
    def _require_db(self, name: str) -> str:
        stored = self.catalog.database_name(name)
        if stored is None:
            raise QueryFailed(
                "", f"FAILED: SemanticException [Error 10072]: Database does not exist: {name}", error_type=TYPE_DDL
            )
        return stored

    def _create_database(self, tree: exp.Create) -> Result:
        name = tree.this.name.lower()
        if self.catalog.database_name(name) is not None:
            if tree.args.get("exists"):
                return _empty()
            raise QueryFailed("", f"FAILED: AlreadyExistsException Database {name} already exists", error_type=TYPE_DDL)
        db_input: dict[str, Any] = {"Name": name}
        for prop in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions:
            if isinstance(prop, exp.LocationProperty):
                db_input["LocationUri"] = prop.this.name
            elif isinstance(prop, exp.SchemaCommentProperty):
                db_input["Description"] = prop.this.name
        self.catalog.glue.create_database(name, db_input)
        return _empty()

    def _table_target(self, table: exp.Table, ctx: QueryContext) -> tuple[str, str]:
        db = (table.db or ctx.database or "default").lower()
        return db, table.name.lower()

    def _create_table(self, tree: exp.Create, ctx: QueryContext) -> Result:
        schema = tree.this
        table = schema.this if isinstance(schema, exp.Schema) else schema
        db, name = self._table_target(table, ctx)
        stored_db = self._require_db(db)
        if self.catalog.get_table(stored_db, name) is not None:
            if tree.args.get("exists"):
                return _empty()
            raise QueryFailed("", "FAILED: AlreadyExistsException Table already exists", error_type=TYPE_DDL)
        columns = []
        if isinstance(schema, exp.Schema):
            for col in schema.expressions:
                if isinstance(col, exp.ColumnDef):
                    columns.append({"Name": col.name.lower(), "Type": _hive_type(col.args.get("kind"))})
        partition_keys: list[dict[str, str]] = []
        location = None
        fmt = "PARQUET"
        params: dict[str, str] = {"EXTERNAL": "TRUE"}
        serde_params: dict[str, str] = {}
        input_format = output_format = serde_lib = ""
        for prop in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions:
            if isinstance(prop, exp.PartitionedByProperty) and isinstance(prop.this, exp.Schema):
                for col in prop.this.expressions:
                    if isinstance(col, exp.ColumnDef):
                        partition_keys.append({"Name": col.name.lower(), "Type": _hive_type(col.args.get("kind"))})
            elif isinstance(prop, exp.LocationProperty):
                location = prop.this.name
            elif isinstance(prop, exp.FileFormatProperty):
                if isinstance(prop.this, exp.InputOutputFormat):
                    input_format = prop.this.text("input_format")
                    output_format = prop.this.text("output_format")
                    fmt = "PARQUET" if "parquet" in input_format.lower() else "CUSTOM"
                else:
                    fmt = prop.this.name.upper()
            elif isinstance(prop, exp.RowFormatSerdeProperty):
                serde_lib = prop.this.name
            elif isinstance(prop, exp.Property):
                key = prop.this.name if isinstance(prop.this, exp.Expression) else str(prop.this)
                value = prop.args.get("value")
                params[key] = value.name if isinstance(value, exp.Expression) else str(value)
            elif isinstance(prop, exp.SerdeProperties):
                for p in prop.expressions:
                    serde_params[p.this.name] = p.args["value"].name
        sd: dict[str, Any] = {"Columns": columns, "Location": location, "Compressed": False}
        if fmt == "PARQUET":
            sd.update(PARQUET_SD)
            params.setdefault("classification", "parquet")
        else:
            params.setdefault("classification", fmt.lower())
        if input_format:
            sd["InputFormat"], sd["OutputFormat"] = input_format, output_format
        if serde_lib:
            sd["SerdeInfo"] = {"SerializationLibrary": serde_lib, "Parameters": {}}
        if serde_params:
            sd.setdefault("SerdeInfo", {}).setdefault("Parameters", {}).update(serde_params)
        table_input = {
            "Name": name,
            "StorageDescriptor": sd,
            "PartitionKeys": partition_keys,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": params,
        }
        self.catalog.glue.create_table(stored_db, name, table_input)
        return _empty()

    def _drop(self, tree: exp.Drop, ctx: QueryContext) -> Result:
        kind = (tree.args.get("kind") or "").upper()
        target = tree.this if tree.this is not None else (tree.args.get("tables") or [None])[0]
        if target is None:
            raise athena_sql.syntax_error("mismatched input '<EOF>'. Expecting: identifier")
        if kind in ("DATABASE", "SCHEMA"):
            name = target.name
            stored = self.catalog.database_name(name)
            if stored is None:
                if tree.args.get("exists"):
                    return _empty()
                self._require_db(name)
            tables = self.catalog.table_names(stored)
            if tables and not tree.args.get("cascade"):
                raise QueryFailed(
                    "",
                    f"FAILED: InvalidOperationException(message:Database {name} is not empty. "
                    "One or more tables exist.)",
                    error_type=TYPE_DDL,
                )
            self.catalog.glue.delete_database(stored)
            return _empty()
        if kind in ("TABLE", "VIEW"):
            db, name = self._table_target(target, ctx)
            info = self.catalog.get_table(db, name)
            if info is None:
                if tree.args.get("exists"):
                    return _empty()
                if self.catalog.database_name(db) is None:
                    self._require_db(db)
                raise QueryFailed(
                    "", f"FAILED: SemanticException [Error 10001]: Table not found {db}.{name}", error_type=TYPE_DDL
                )
            self.catalog.glue.delete_table(info.database, info.name)  # external data stays, as in Athena
            return _empty()
        raise QueryFailed("NOT_SUPPORTED", f"DROP {kind} is not supported")

    # ------------------------------------------------------------------ regex-parsed statements
    _MSCK = re.compile(r"^MSCK\s+REPAIR\s+TABLE\s+([\w`\".]+)$", re.IGNORECASE)
    _ALTER_ADD = re.compile(
        r"^ALTER\s+TABLE\s+([\w`\".]+)\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?(PARTITION\b.*)$", re.IGNORECASE | re.DOTALL
    )
    _ALTER_DROP = re.compile(
        r"^ALTER\s+TABLE\s+([\w`\".]+)\s+DROP\s+(IF\s+EXISTS\s+)?(PARTITION\b.*)$", re.IGNORECASE | re.DOTALL
    )
    _SHOW_TABLES = re.compile(
        r"^SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+([\w`\"]+))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.IGNORECASE
    )
    _SHOW_DBS = re.compile(r"^SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.IGNORECASE)
    _SHOW_PARTS = re.compile(r"^SHOW\s+PARTITIONS\s+([\w`\".]+)$", re.IGNORECASE)
    _SHOW_COLS = re.compile(r"^SHOW\s+COLUMNS\s+(?:IN|FROM)\s+([\w`\".]+)$", re.IGNORECASE)
    _PART_SPEC = re.compile(r"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s+'([^']*)')?", re.IGNORECASE)

    def _regex_handler(self, body: str):
        for pattern, handler in (
            (self._MSCK, self._msck),
            (self._ALTER_ADD, self._alter_add),
            (self._ALTER_DROP, self._alter_drop),
            (self._SHOW_TABLES, self._show_tables),
            (self._SHOW_DBS, self._show_databases),
            (self._SHOW_PARTS, self._show_partitions),
            (self._SHOW_COLS, self._show_columns),
        ):
            if pattern.match(body):
                return handler
        return None

    def _table_from_text(self, text: str, ctx: QueryContext, sql_text: str) -> TableInfo:
        parts = [p.strip('`"') for p in text.split(".")]
        table = exp.Table(
            this=exp.to_identifier(parts[-1]),
            db=exp.to_identifier(parts[-2]) if len(parts) > 1 else None,
        )
        return self._resolve(table, sql_text, ctx)

    def _msck(self, body: str, ctx: QueryContext) -> Result:
        info = self._table_from_text(self._MSCK.match(body).group(1), ctx, body)
        if not info.partition_keys or not info.location:
            return _lines([])
        existing = {tuple(p.values) for p in self.catalog.partitions(info)}
        prefix = as_prefix(split_s3_url(info.location)[1])
        keys = info.partition_names
        found: dict[tuple[str, ...], str] = {}
        for obj in self.catalog.list_objects(info.location):
            rel = obj.key[len(prefix) :].split("/")[:-1]
            if len(rel) < len(keys):
                continue
            values = []
            for key, folder in zip(keys, rel, strict=False):
                k, sep, v = folder.partition("=")
                if not sep or k.lower() != key.lower():
                    break
                values.append(v)
            if len(values) == len(keys):
                found.setdefault(tuple(values), as_prefix(info.location) + "/".join(rel[: len(keys)]) + "/")
        added = []
        lines = []
        for values, location in sorted(found.items()):
            if values in existing:
                continue
            added.append(self._partition_input(info, list(values), location))
            spec = "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
            lines.append(f"Partitions not in metastore:\t{info.name}:{spec}")
        if added:
            self.catalog.glue.batch_create_partition(info.database, info.name, added)
            lines += [f"Repair: Added partition to metastore {info.name}:{line.split(':')[-1]}" for line in lines]
        return _lines(lines)

    def _partition_input(self, info: TableInfo, values: list[str], location: str) -> dict[str, Any]:
        sd = dict(info.raw.get("StorageDescriptor") or {})
        sd["Location"] = location
        return {"Values": values, "StorageDescriptor": sd, "Parameters": {}}

    def _parse_specs(self, info: TableInfo, text: str) -> list[tuple[list[str], str | None]]:
        specs = []
        for spec, location in self._PART_SPEC.findall(text):
            kv = {}
            for item in re.findall(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^,\s]+)", spec):
                value = item[1]
                if value.startswith("'"):
                    value = value[1:-1].replace("''", "'")
                kv[item[0].lower()] = value
            missing = [k for k in info.partition_names if k.lower() not in kv]
            if missing:
                raise QueryFailed(
                    "", f"FAILED: SemanticException partition spec {spec} is invalid", error_type=TYPE_DDL
                )
            specs.append(([kv[k.lower()] for k in info.partition_names], location or None))
        if not specs:
            raise athena_sql.syntax_error("mismatched input. Expecting: 'PARTITION'")
        return specs

    def _alter_add(self, body: str, ctx: QueryContext) -> Result:
        m = self._ALTER_ADD.match(body)
        info = self._table_from_text(m.group(1), ctx, body)
        if_not_exists = bool(m.group(2))
        existing = {tuple(p.values) for p in self.catalog.partitions(info)}
        inputs = []
        for values, location in self._parse_specs(info, m.group(3)):
            if tuple(values) in existing:
                if if_not_exists:
                    continue
                raise QueryFailed("", "FAILED: AlreadyExistsException Partition already exists", error_type=TYPE_DDL)
            if location is None:
                suffix = "/".join(f"{k}={v}" for k, v in zip(info.partition_names, values, strict=True))
                location = as_prefix(info.location or "") + suffix + "/"
            inputs.append(self._partition_input(info, values, location))
        if inputs:
            self.catalog.glue.batch_create_partition(info.database, info.name, inputs)
        return _empty()

    def _alter_drop(self, body: str, ctx: QueryContext) -> Result:
        m = self._ALTER_DROP.match(body)
        info = self._table_from_text(m.group(1), ctx, body)
        glue_table = self.catalog.glue.get_table(info.database, info.name)
        for values, _ in self._parse_specs(info, m.group(3)):
            if str(values) in glue_table.partitions:
                glue_table.delete_partition(values)
            elif not m.group(2):
                raise QueryFailed(
                    "", "FAILED: SemanticException [Error 10006]: Partition not found", error_type=TYPE_DDL
                )
        return _empty()

    def _show_tables(self, body: str, ctx: QueryContext) -> Result:
        m = self._SHOW_TABLES.match(body)
        db = (m.group(1) or ctx.database or "default").strip('`"')
        stored = self.catalog.database_name(db)
        if stored is None:
            raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{db}' does not exist")
        names = sorted(self.catalog.table_names(stored))
        if m.group(2):
            regex = re.compile("^" + m.group(2).replace("*", ".*") + "$", re.IGNORECASE)
            names = [n for n in names if any(regex.match(n) for _ in [0])]
        return Result(["tab_name"], ["VARCHAR"], [(n,) for n in names], header=False)

    def _show_databases(self, body: str, ctx: QueryContext) -> Result:
        m = self._SHOW_DBS.match(body)
        names = sorted(d.name for d in self.catalog.databases())
        if m.group(1):
            regex = re.compile("^" + m.group(1).replace("*", ".*") + "$", re.IGNORECASE)
            names = [n for n in names if regex.match(n)]
        return Result(["database_name"], ["VARCHAR"], [(n,) for n in names], header=False)

    def _show_partitions(self, body: str, ctx: QueryContext) -> Result:
        info = self._table_from_text(self._SHOW_PARTS.match(body).group(1), ctx, body)
        if not info.partition_keys:
            raise QueryFailed(
                "", f"FAILED: SemanticException Table {info.name} is not a partitioned table", error_type=TYPE_DDL
            )
        rows = sorted(
            "/".join(f"{k}={v}" for k, v in zip(info.partition_names, p.values, strict=False))
            for p in self.catalog.partitions(info)
        )
        return Result(["partition"], ["VARCHAR"], [(r,) for r in rows], header=False)

    def _show_columns(self, body: str, ctx: QueryContext) -> Result:
        info = self._table_from_text(self._SHOW_COLS.match(body).group(1), ctx, body)
        cols = info.columns + info.partition_keys
        return Result(["field"], ["VARCHAR"], [(c.name,) for c in cols], header=False)

    def _describe(self, tree: exp.Describe, ctx: QueryContext) -> Result:
        target = tree.this
        if not isinstance(target, exp.Table):
            raise QueryFailed("NOT_SUPPORTED", "DESCRIBE supports tables only")
        info = self._resolve(target, target.sql(), ctx)
        rows = [(f"{c.name}\t{c.type}\t{c.comment or ''}",) for c in info.columns + info.partition_keys]
        if info.partition_keys:
            rows.append(("\t\t",))
            rows.append(("# Partition Information\t\t",))
            rows.append(("# col_name\tdata_type\tcomment",))
            rows.append(("\t\t",))
            rows += [(f"{c.name}\t{c.type}\t{c.comment or ''}",) for c in info.partition_keys]
        return Result(["col_name"], ["VARCHAR"], rows, header=False)

    # ================================================================== CTAS / INSERT
    def _ctas(self, tree: exp.Create, sql_text: str, ctx: QueryContext) -> Result:
        table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        db, name = self._table_target(table, ctx)
        stored_db = self._require_db(db)
        if self.catalog.get_table(stored_db, name) is not None:
            if tree.args.get("exists"):
                return _empty(header=True)
            raise QueryFailed(
                "TABLE_ALREADY_EXISTS",
                f"Destination table 'awsdatacatalog.{db}.{name}' already exists",
                position=athena_sql.position_of(sql_text, table.db or table.name),
            )
        fmt = "PARQUET"
        location = None
        partitioned_by: list[str] = []
        compression = "snappy"
        for prop in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions:
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
            raise QueryFailed(
                "NOT_SUPPORTED", f"CTAS format {fmt} is not supported by the local endpoint (PARQUET only)"
            )
        if location is None:
            if not ctx.output_location:
                raise QueryFailed("", "No output location provided for the table data", error_type=TYPE_USER)
            bucket, prefix = split_s3_url(ctx.output_location)
            location = f"s3://{bucket}/{as_prefix(prefix)}tables/{ctx.query_id}/"
        location = as_prefix(location)
        if self.catalog.prefix_has_objects(location):
            raise QueryFailed(
                "HIVE_PATH_ALREADY_EXISTS",
                f"Target directory for table '{db}.{name}' already exists: {location}. You may need to manually "
                "clean the data at location 's3://...' before retrying. Athena will not delete data in your account.",
                error_type=1001,
            )
        arrow, scanned = self.query_arrow(tree.expression, sql_text, ctx)
        columns = [c.lower() for c in arrow.column_names]
        if partitioned_by and columns[-len(partitioned_by) :] != partitioned_by:
            raise QueryFailed(
                "",
                "Partition keys must be the last columns in the table and in the same order as the table "
                "properties: " + str(partitioned_by),
                error_type=TYPE_USER,
            )
        arrow = arrow.rename_columns(columns)
        duck_types = {f.name: _arrow_to_glue(f.type) for f in arrow.schema}
        data_cols = [c for c in columns if c not in partitioned_by]
        table_input = {
            "Name": name,
            "StorageDescriptor": {
                "Columns": [{"Name": c, "Type": duck_types[c]} for c in data_cols],
                "Location": location.rstrip("/"),
                "Compressed": False,
                **PARQUET_SD,
            },
            "PartitionKeys": [{"Name": c, "Type": duck_types[c]} for c in partitioned_by],
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "EXTERNAL": "TRUE",
                "classification": "parquet",
                "has_encrypted_data": "false",
                "parquet.compression": compression.upper(),
            },
        }
        self.catalog.glue.create_table(stored_db, name, table_input)
        info = self.catalog.get_table(stored_db, name)
        assert info is not None
        self._write_rows(info, arrow, location, ctx, compression)
        return Result([], [], [], data_scanned=scanned, header=True, update_count=arrow.num_rows)

    def _insert(self, tree: exp.Insert, sql_text: str, ctx: QueryContext) -> Result:
        target = tree.this
        column_list: list[str] | None = None
        if isinstance(target, exp.Schema):
            column_list = [c.name.lower() for c in target.expressions]
            target = target.this
        info = self._resolve(target, sql_text, ctx)
        if not info.location:
            raise QueryFailed("", f"Table {info.database}.{info.name} has no location", error_type=TYPE_USER)
        query = tree.expression
        arrow, scanned = self.query_arrow(query, sql_text, ctx)
        all_cols = [c.name.lower() for c in info.columns] + [c.lower() for c in info.partition_names]
        names = column_list or all_cols
        if arrow.num_columns != len(names):
            raise QueryFailed(
                "",
                f"Insert query has mismatched column types: Table: {len(all_cols)} columns, "
                f"Query: {arrow.num_columns} columns",
                error_type=TYPE_USER,
            )
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
            f"CAST({_q(c.name.lower())} AS {glue_to_duckdb_type(c.type)}) AS {_q(c.name.lower())}" for c in info.columns
        )
        parts = ", ".join(f"CAST({_q(c.lower())} AS VARCHAR) AS {_q(c.lower())}" for c in info.partition_names)
        try:
            arrow = con.sql(f"SELECT {projection}{', ' if parts else ''}{parts} FROM __ins").to_arrow_table()
        except duckdb.Error as err:
            raise QueryFailed("TYPE_MISMATCH", f"Insert query has mismatched column types: {err}") from err
        finally:
            con.close()
        self._write_rows(info, arrow, as_prefix(info.location), ctx, "snappy")
        return Result([], [], [], data_scanned=scanned, header=True, update_count=arrow.num_rows)

    def _write_rows(self, info: TableInfo, arrow: pa.Table, location: str, ctx: QueryContext, compression: str):
        """Write Parquet objects (one per partition) and register new partitions in Glue."""
        bucket, prefix = split_s3_url(location)
        prefix = as_prefix(prefix)
        stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
        keys = info.partition_names
        if not keys:
            self.catalog.put_object(bucket, f"{prefix}{stamp}_{ctx.query_id}_0.parquet", _parquet(arrow, compression))
            return
        data_names = [c for c in arrow.column_names if c not in [k.lower() for k in keys]]
        con = duckdb.connect(":memory:")
        con.register("__rows", arrow)
        groups = con.execute(f"SELECT DISTINCT {', '.join(_q(k.lower()) for k in keys)} FROM __rows").fetchall()
        existing = {tuple(p.values) for p in self.catalog.partitions(info)}
        new_parts = []
        for n, values in enumerate(groups):
            cond = " AND ".join(
                f"{_q(k.lower())} IS NULL" if v is None else f"{_q(k.lower())} = {_lit(str(v))}"
                for k, v in zip(keys, values, strict=True)
            )
            part = con.execute(
                f"SELECT {', '.join(_q(c) for c in data_names)} FROM __rows WHERE {cond}"
            ).to_arrow_table()
            str_values = ["__HIVE_DEFAULT_PARTITION__" if v is None else str(v) for v in values]
            folder = "/".join(f"{k}={v}" for k, v in zip(keys, str_values, strict=True))
            self.catalog.put_object(
                bucket, f"{prefix}{folder}/{stamp}_{ctx.query_id}_{n}.parquet", _parquet(part, compression)
            )
            if tuple(str_values) not in existing:
                new_parts.append(self._partition_input(info, str_values, f"s3://{bucket}/{prefix}{folder}/"))
        con.close()
        if new_parts:
            self.catalog.glue.batch_create_partition(info.database, info.name, new_parts)


def _is_parquet(info: TableInfo) -> bool:
    """Parquet by SerDe, input format or classification (tables without any hint are assumed Parquet)."""
    sd = info.raw.get("StorageDescriptor") or {}
    hints = [
        str(sd.get("InputFormat") or ""),
        str((sd.get("SerdeInfo") or {}).get("SerializationLibrary") or ""),
        str(info.parameters.get("classification") or ""),
    ]
    hints = [h.lower() for h in hints if h]
    return not hints or any("parquet" in h for h in hints)


def _parquet(table: pa.Table, compression: str) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression=None if compression in ("none", "uncompressed") else compression)
    return buf.getvalue()


def _arrow_to_glue(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_int32(t):
        return "int"
    if pa.types.is_int16(t):
        return "smallint"
    if pa.types.is_int8(t):
        return "tinyint"
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_float32(t):
        return "float"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"array<{_arrow_to_glue(t.value_type)}>"
    if pa.types.is_map(t):
        return f"map<{_arrow_to_glue(t.key_type)},{_arrow_to_glue(t.item_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ",".join(f"{f.name}:{_arrow_to_glue(f.type)}" for f in t) + ">"
    return duckdb_to_glue_type(str(t))


def _hive_type(kind: exp.DataType | None) -> str:
    if kind is None:
        return "string"
    return kind.sql(dialect="hive").lower().replace(" ", "")


def _empty(header: bool = False) -> Result:
    return Result([], [], [], header=header)


def _lines(lines: list[str]) -> Result:
    return Result(["result"] if lines else [], ["VARCHAR"] if lines else [], [(line,) for line in lines], header=False)
