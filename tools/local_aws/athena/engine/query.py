"""SELECT (and the query part of CTAS, INSERT and CREATE VIEW): analyze, translate, bind, run on DuckDB.

The analyzer resolves every name against Glue and types every expression (``sql.analysis``); only a
query it accepts is translated (``sql.translate``). Each catalog table the translation reads becomes a
temp view over its registered, pruned partitions (``scans``) on the query's own connection, so a
worker can be interrupted on StopQueryExecution without touching others. Results carry the analyzed
Trino types, which decide their text and ColumnInfo.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
from sqlglot import exp

from local_aws.athena.catalog import Catalog
from local_aws.athena.engine import information_schema
from local_aws.athena.engine.context import QueryContext, Result, quote_ident, session_connection
from local_aws.athena.engine.duckdb_errors import query_failed
from local_aws.athena.engine.scans import TableScans, is_parquet
from local_aws.athena.engine.sources import CatalogSources
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis import Analysis, analyze_query
from local_aws.athena.sql.translate import TableBinding, translate_query
from local_aws.athena.sql.types import TrinoType


def _check_zones(t: TrinoType, name: str) -> None:
    """A zoned value is printed with its zone: the zone must be known (one per column)."""
    if t.base == T.TZ and t.zone is None:
        raise QueryFailed(
            "NOT_SUPPORTED",
            f"Column {name} holds timestamps with time zones that differ from row to row; the local Athena "
            "endpoint keeps one zone per expression",
        )
    for child in t.args if t.base in ("array", "map") else [ft for _, ft in t.fields] if t.base == "row" else []:
        _check_zones(child, name)


class QueryRunner:
    """Runs queries over one :class:`Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.scans = TableScans(catalog)

    def analyze(self, tree: exp.Expression, sql_text: str, ctx: QueryContext) -> Analysis:
        return analyze_query(tree, sql_text, CatalogSources(self.catalog), ctx.database)

    def rows(self, tree: exp.Expression, sql_text: str, ctx: QueryContext) -> Result:
        """Run a query for its result rows."""
        analysis = self.analyze(tree, sql_text, ctx)
        for name, f in zip(analysis.names, analysis.fields, strict=True):
            _check_zones(f.type, name)
        translation = translate_query(analysis.tree)
        con = self._connect(ctx)
        try:
            scanned = self._bind(con, translation.tables, ctx)
            try:
                rows = con.execute(translation.sql).fetchall()
            except duckdb.Error as err:
                raise query_failed(err, sql_text, ctx) from err
            return Result(analysis.names, [f.type for f in analysis.fields], rows, data_scanned=scanned)
        finally:
            ctx.connection = None
            con.close()

    def arrow(self, analysis: Analysis, sql_text: str, ctx: QueryContext) -> tuple[pa.Table, int]:
        """Run an analyzed query for Arrow (CTAS/INSERT); timestamps in milliseconds, as Athena writes them."""
        translation = translate_query(analysis.tree)
        con = self._connect(ctx)
        try:
            scanned = self._bind(con, translation.tables, ctx)
            try:
                rel = con.sql(translation.sql)
                casts = []
                for name, f in zip(rel.columns, analysis.fields, strict=True):
                    column = quote_ident(name)
                    target = "TIMESTAMP_MS" if f.type.base == "timestamp" else None
                    casts.append(f"CAST({column} AS {target}) AS {column}" if target else column)
                table = rel.select(", ".join(casts)).to_arrow_table()
            except duckdb.Error as err:
                raise query_failed(err, sql_text, ctx) from err
            return table.rename_columns(analysis.names), scanned
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

    def _bind(self, con: duckdb.DuckDBPyConnection, tables: list[TableBinding], ctx: QueryContext) -> int:
        """Create each table's temp view on ``con``; the bytes the scans will read."""
        scanned = 0
        for binding in tables:
            source = binding.source
            if source.kind == "system":
                information_schema.bind_view(self.catalog, con, binding.view, source.name)
                continue
            info = source.info
            if not is_parquet(info):
                raise QueryFailed(
                    "HIVE_UNSUPPORTED_FORMAT",
                    f"Table '{info.database}.{info.name}' is not stored as Parquet; the local Athena "
                    "endpoint reads Parquet tables only",
                )
            view_sql, size = self.scans.view_sql(info, binding.conjuncts, source.pseudo)
            scanned += size
            try:
                con.execute(f"CREATE TEMP VIEW {binding.view} AS {view_sql}")
            except duckdb.Error as err:
                raise QueryFailed("HIVE_BAD_DATA", f"Error reading table {info.database}.{info.name}: {err}") from err
        return scanned
