"""``information_schema.schemata``, ``tables`` and ``columns``, built from Glue as Athena serves them."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from local_aws.athena.catalog import Catalog
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.types import TrinoType

SCHEMA = "information_schema"
_COLUMNS = {
    "schemata": ["catalog_name", "schema_name"],
    "tables": ["table_catalog", "table_schema", "table_name", "table_type"],
    "columns": [
        "table_catalog", "table_schema", "table_name", "column_name", "ordinal_position",
        "column_default", "is_nullable", "data_type", "comment", "extra_info",
    ],
}  # fmt: skip


def _rows(catalog: Catalog) -> dict[str, list[tuple[object, ...]]]:
    schemata, tables, columns = [], [], []
    for db in catalog.databases():
        schemata.append(("awsdatacatalog", db.name))
        for tname in catalog.table_names(db.name):
            info = catalog.get_table(db.name, tname)
            if info is None:
                continue
            kind = "VIEW" if info.table_type == "VIRTUAL_VIEW" else "BASE TABLE"
            tables.append(("awsdatacatalog", db.name, info.name, kind))
            for pos, col in enumerate(info.columns + info.partition_keys, start=1):
                extra = "partition key" if col in info.partition_keys else None
                columns.append(
                    ("awsdatacatalog", db.name, info.name, col.name, pos, None, "YES", col.type, col.comment, extra)
                )
    return {"schemata": schemata, "tables": tables, "columns": columns}


def columns(name: str, position: tuple[int, int] | None) -> list[str]:
    """The columns of ``information_schema.<name>``; TABLE_NOT_FOUND for a table it does not have."""
    if name not in _COLUMNS:
        raise QueryFailed(
            "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.information_schema.{name}' does not exist", position=position
        )
    return _COLUMNS[name]


def type_of(column: str) -> TrinoType:
    return T.BIGINT if column == "ordinal_position" else T.VARCHAR


def bind_view(catalog: Catalog, con: duckdb.DuckDBPyConnection, view: str, name: str) -> None:
    """Create temp view ``view`` holding ``information_schema.<name>`` as Glue describes it now."""
    names, data = _COLUMNS[name], _rows(catalog)[name]
    arrow = pa.table(
        {
            n: pa.array([row[i] for row in data], pa.int64() if n == "ordinal_position" else pa.string())
            for i, n in enumerate(names)
        }
    )
    con.register(f"{view}_data", arrow)
    con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {view}_data")
