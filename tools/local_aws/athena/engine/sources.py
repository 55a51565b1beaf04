"""The catalog as the analyzer sees it: a FROM clause's name resolved to a Glue table (its columns typed
from Glue's Hive types), a view (its stored SQL, expanded by the analyzer) or an information_schema
table, with Athena's errors for names that do not exist.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.catalog import Catalog, TableInfo
from local_aws.athena.engine import information_schema
from local_aws.athena.engine.resolve import resolve_table
from local_aws.athena.engine.views import is_view, view_definition
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis import Field, Source


def columns_of(info: TableInfo) -> list[Field]:
    """A Glue table's columns (data columns, then partition keys) with their Trino types."""
    fields = []
    for column in info.columns + info.partition_keys:
        try:
            t = T.parse_hive(column.type)
        except T.UnknownType as err:
            raise QueryFailed(
                "NOT_SUPPORTED",
                f"Column {column.name} of {info.database}.{info.name} has type {column.type}, which the local "
                "Athena endpoint cannot read",
            ) from err
        fields.append(Field(column.name.lower(), t))
    return fields


class CatalogSources:
    """Implements the analyzer's ``Sources`` over a :class:`Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def lookup(self, table: exp.Table, database: str | None, position: tuple[int, int] | None) -> Source:
        db = (table.db or database or "default").lower()
        if db == information_schema.SCHEMA:
            name = table.name.lower()
            names = information_schema.columns(name, position)
            return Source("system", db, name, [Field(n, information_schema.type_of(n)) for n in names])
        info = resolve_table(self.catalog, table, database, position)
        if is_view(info):
            sql, view_db = view_definition(info)
            return Source("view", view_db, info.name, [], info=info, view_sql=sql)
        return Source("table", info.database, info.name, columns_of(info), info=info)
