"""Naming a catalog table or database in a statement: resolution with Athena's errors."""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.catalog import Catalog, TableInfo
from local_aws.athena.engine.context import QueryContext
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.parse import position_of


def resolve_table(catalog: Catalog, table: exp.Table, database: str | None, pos: tuple[int, int] | None) -> TableInfo:
    """The Glue table (or view) a reference names (``database`` is the default), or Athena's error."""
    catalog_name = table.catalog
    if catalog_name and catalog_name.lower() != "awsdatacatalog":
        raise QueryFailed("CATALOG_NOT_FOUND", f"Catalog '{catalog_name.lower()}' does not exist", position=pos)
    db = table.db or database or "default"
    info = catalog.get_table(db, table.name)
    if info is not None:
        return info
    if catalog.database_name(db) is None:
        raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{db.lower()}' does not exist", position=pos)
    raise QueryFailed(
        "TABLE_NOT_FOUND",
        f"Table 'awsdatacatalog.{db.lower()}.{table.name.lower()}' does not exist",
        position=pos,
    )


def table_from_text(catalog: Catalog, text: str, ctx: QueryContext, sql_text: str) -> TableInfo:
    """Resolve a ``db.table`` name matched in a regex-parsed statement (quotes and backticks allowed)."""
    parts = [p.strip('`"') for p in text.split(".")]
    table = exp.Table(
        this=exp.to_identifier(parts[-1]),
        db=exp.to_identifier(parts[-2]) if len(parts) > 1 else None,
    )
    return resolve_table(catalog, table, ctx.database, position_of(sql_text, parts[0]))


def table_target(table: exp.Table, ctx: QueryContext) -> tuple[str, str]:
    """(database, table) a CREATE/DROP names, lower-cased as Athena stores them."""
    db = (table.db or ctx.database or "default").lower()
    return db, table.name.lower()


def require_database(catalog: Catalog, name: str) -> str:
    """The stored name of a database a DDL statement needs, or the Hive metastore's error."""
    stored = catalog.database_name(name)
    if stored is None:
        raise QueryFailed("DDL_FAILED", f"FAILED: SemanticException [Error 10072]: Database does not exist: {name}")
    return stored
