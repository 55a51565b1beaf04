"""SELECT (and the query part of CTAS/INSERT): bind catalog tables to views, translate, run on DuckDB.

Each query gets a fresh in-memory DuckDB connection, so a worker can be interrupted on
StopQueryExecution without touching others. Each catalog table the query names becomes a temp
view (``views``) over its registered, pruned partitions; ``information_schema`` tables come from Glue.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
from sqlglot import exp

from local_aws.athena.catalog import Catalog
from local_aws.athena.engine import information_schema
from local_aws.athena.engine.context import QueryContext, Result, quote_ident, session_connection
from local_aws.athena.engine.duckdb_errors import query_failed
from local_aws.athena.engine.resolve import resolve_table
from local_aws.athena.engine.views import TableViews, is_parquet
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.analysis import catalog_tables, partition_conjuncts
from local_aws.athena.sql.translate import name_output_columns, translate

# DuckDB result types CTAS/INSERT narrow before writing Parquet (Athena has no unsigned or 128-bit ints).
_NARROWED = {"HUGEINT": "BIGINT", "UBIGINT": "BIGINT", "UINTEGER": "BIGINT"}


class QueryRunner:
    """Runs queries over one :class:`Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.views = TableViews(catalog)

    def rows(self, tree: exp.Expression, sql_text: str, ctx: QueryContext) -> Result:
        """Run a query for its result rows."""
        con = self._connect(ctx)
        try:
            duck_sql, scanned = self._prepare(con, tree, sql_text, ctx)
            try:
                rel = con.execute(duck_sql)
                columns = [d[0] for d in rel.description or []]
                types = [str(d[1]) for d in rel.description or []]
                rows = rel.fetchall()
            except duckdb.Error as err:
                raise query_failed(err, sql_text, ctx) from err
            return Result(columns, types, rows, data_scanned=scanned)
        finally:
            ctx.connection = None
            con.close()

    def arrow(self, tree: exp.Expression, sql_text: str, ctx: QueryContext) -> tuple[pa.Table, int]:
        """Run a query for Arrow (CTAS/INSERT), with wide integers narrowed and timestamps in ms."""
        con = self._connect(ctx)
        try:
            duck_sql, scanned = self._prepare(con, tree, sql_text, ctx)
            try:
                rel = con.sql(duck_sql)
                casts = []
                for name, dtype in zip(rel.columns, rel.types, strict=True):
                    t = str(dtype).upper()
                    target = "TIMESTAMP_MS" if t.startswith("TIMESTAMP") else _NARROWED.get(t)
                    column = quote_ident(name)
                    casts.append(f"CAST({column} AS {target}) AS {column}" if target else column)
                table = rel.select(", ".join(casts)).to_arrow_table()
            except duckdb.Error as err:
                raise query_failed(err, sql_text, ctx) from err
            return table, scanned
        finally:
            ctx.connection = None
            con.close()

    @staticmethod
    def _connect(ctx: QueryContext) -> duckdb.DuckDBPyConnection:
        con = session_connection()
        ctx.connection = con
        if ctx.cancelled.is_set():
            raise QueryFailed("USER_CANCELED", "Query was canceled by user")
        return con

    def _prepare(
        self, con: duckdb.DuckDBPyConnection, tree: exp.Expression, sql_text: str, ctx: QueryContext
    ) -> tuple[str, int]:
        """(DuckDB SQL of the query with its tables bound on ``con``, bytes scanned)."""
        tree = tree.copy()
        scanned, dates = self._bind_tables(con, tree, sql_text, ctx)
        name_output_columns(tree)
        return translate(tree, dates), scanned

    def _bind_tables(
        self, con: duckdb.DuckDBPyConnection, tree: exp.Expression, sql_text: str, ctx: QueryContext
    ) -> tuple[int, set[str]]:
        """Replace each catalog table in ``tree`` by a temp view; (bytes scanned, DATE column names)."""
        scanned = 0
        dates: set[str] = set()
        for i, table in enumerate(catalog_tables(tree)):
            view = f"__athena_t{i}"
            if (table.db or ctx.database or "").lower() == information_schema.SCHEMA:
                information_schema.bind_view(self.catalog, con, view, table, sql_text)
                _replace_table(table, view)
                continue
            info = resolve_table(self.catalog, table, sql_text, ctx)
            if not is_parquet(info):
                raise QueryFailed(
                    "HIVE_UNSUPPORTED_FORMAT",
                    f"Table '{info.database}.{info.name}' is not stored as Parquet; the local Athena "
                    "endpoint reads Parquet tables only",
                )
            view_sql, size = self.views.view_sql(info, partition_conjuncts(table, info.partition_names))
            scanned += size
            try:
                con.execute(f"CREATE TEMP VIEW {view} AS {view_sql}")
            except duckdb.Error as err:
                raise QueryFailed("HIVE_BAD_DATA", f"Error reading table {info.database}.{info.name}: {err}") from err
            dates.update(c.name.lower() for c in info.columns if c.type.lower() == "date")
            _replace_table(table, view)
        return scanned, dates


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
