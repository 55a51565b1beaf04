"""CREATE [OR REPLACE] VIEW and DROP VIEW, stored in Glue the way Athena stores them.

An Athena view is a Glue table of type VIRTUAL_VIEW whose ``ViewOriginalText`` is
``/* Presto View: <base64 JSON> */``; the JSON holds the view's SQL, its catalog and schema and its
columns with their Trino types (``presto_view`` in the parameters). Other tools that read Glue see the
same thing as for a view made by Athena; the analyzer expands the SQL where a query names the view.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from sqlglot import exp

from local_aws.athena.catalog import Catalog, TableInfo
from local_aws.athena.engine.context import QueryContext, Result, empty
from local_aws.athena.engine.resolve import require_database, table_target
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.analysis import Field
from local_aws.athena.sql.types import hive_name

VIRTUAL_VIEW = "VIRTUAL_VIEW"
_ORIGINAL = re.compile(r"/\* Presto View: (.*) \*/", re.DOTALL)
_VIEW_BODY = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+\S+\s+AS\s+(.*)$", re.IGNORECASE | re.DOTALL)


def is_view(info: TableInfo) -> bool:
    return info.table_type == VIRTUAL_VIEW


def view_definition(info: TableInfo) -> tuple[str, str]:
    """(the view's SQL, the database its names resolve in)."""
    text = str(info.raw.get("ViewOriginalText") or "")
    match = _ORIGINAL.search(text)
    if match is None:
        raise QueryFailed("VIEW_IS_STALE", f"View '{info.database}.{info.name}' has no Athena view definition")
    doc = json.loads(base64.b64decode(match.group(1)))
    return str(doc["originalSql"]), str(doc.get("schema") or info.database)


def view_sql_of(statement: str) -> str:
    """The query of a ``CREATE VIEW ... AS <query>`` statement, as written."""
    match = _VIEW_BODY.match(statement.strip().rstrip(";"))
    if match is None:
        raise QueryFailed("SYNTAX_ERROR", "mismatched input. Expecting: 'AS'")
    return match.group(1).strip()


def create_view(catalog: Catalog, tree: exp.Create, query_sql: str, fields: list[Field], ctx: QueryContext) -> Result:
    db, name = table_target(tree.this, ctx)
    stored_db = require_database(catalog, db)
    existing = catalog.get_table(stored_db, name)
    if existing is not None and not tree.args.get("replace"):
        raise QueryFailed("TABLE_ALREADY_EXISTS", f"View 'awsdatacatalog.{db}.{name}' already exists")
    if existing is not None and not is_view(existing):
        raise QueryFailed("TABLE_ALREADY_EXISTS", f"Table 'awsdatacatalog.{db}.{name}' already exists")
    columns = [{"name": f.name or f"_col{i}", "type": f.type.display()} for i, f in enumerate(fields)]
    doc: dict[str, Any] = {
        "originalSql": query_sql,
        "catalog": "awsdatacatalog",
        "schema": stored_db,
        "columns": columns,
        "owner": "local_aws",
        "runAsInvoker": False,
    }
    encoded = base64.b64encode(json.dumps(doc).encode()).decode()
    table_input = {
        "Name": name,
        "TableType": VIRTUAL_VIEW,
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": f"/* Presto View: {encoded} */",
        "ViewExpandedText": "/* Presto View */",
        "StorageDescriptor": {
            "Columns": [{"Name": c["name"], "Type": hive_name(f.type)} for c, f in zip(columns, fields, strict=True)],
            "SerdeInfo": {},
        },
        "PartitionKeys": [],
    }
    if existing is not None:
        catalog.glue.delete_table(stored_db, existing.name)
    catalog.glue.create_table(stored_db, name, table_input)
    return empty()


def drop_view(catalog: Catalog, tree: exp.Drop, ctx: QueryContext) -> Result:
    target = tree.this if tree.this is not None else (tree.args.get("tables") or [None])[0]
    if target is None:
        raise QueryFailed("SYNTAX_ERROR", "mismatched input '<EOF>'. Expecting: identifier")
    db, name = table_target(target, ctx)
    info = catalog.get_table(db, name)
    if info is None or not is_view(info):
        if tree.args.get("exists"):
            return empty()
        raise QueryFailed("TABLE_NOT_FOUND", f"View 'awsdatacatalog.{db}.{name}' does not exist")
    catalog.glue.delete_table(info.database, info.name)
    return empty()
