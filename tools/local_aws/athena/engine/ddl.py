"""DDL through Glue: CREATE/DROP DATABASE and TABLE, ALTER TABLE ADD/DROP PARTITION, MSCK REPAIR TABLE.

Statements sqlglot parses (CREATE, DROP) arrive as trees; the partition statements Athena takes
from Hive are matched by the patterns in :data:`STATEMENTS`. Failures read as the Hive
metastore's ``FAILED: ...`` lines, as in Athena.
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from local_aws.athena.catalog import Catalog, TableInfo, as_prefix, split_s3_url
from local_aws.athena.engine.context import Handler, QueryContext, Result, empty, text_lines
from local_aws.athena.engine.resolve import require_database, table_from_text, table_target
from local_aws.athena.errors import QueryFailed, not_supported, syntax_error
from local_aws.catalog_types import parquet_format

_PART_SPEC = re.compile(r"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s+'([^']*)')?", re.IGNORECASE)


def properties(tree: exp.Create) -> list[exp.Expression]:
    return list((tree.args.get("properties") or exp.Properties(expressions=[])).expressions)


def hive_type(kind: exp.DataType | None) -> str:
    """A column type of a CREATE statement in Hive's spelling (as Glue stores it)."""
    if kind is None:
        return "string"
    return kind.sql(dialect="hive").lower().replace(" ", "")


def create_database(catalog: Catalog, tree: exp.Create) -> Result:
    name = tree.this.name.lower()
    if catalog.database_name(name) is not None:
        if tree.args.get("exists"):
            return empty()
        raise QueryFailed("DDL_FAILED", f"FAILED: AlreadyExistsException Database {name} already exists")
    db_input: dict[str, Any] = {"Name": name}
    for prop in properties(tree):
        if isinstance(prop, exp.LocationProperty):
            db_input["LocationUri"] = prop.this.name
        elif isinstance(prop, exp.SchemaCommentProperty):
            db_input["Description"] = prop.this.name
    catalog.glue.create_database(name, db_input)
    return empty()


def create_table(catalog: Catalog, tree: exp.Create, ctx: QueryContext) -> Result:
    schema = tree.this
    table = schema.this if isinstance(schema, exp.Schema) else schema
    db, name = table_target(table, ctx)
    stored_db = require_database(catalog, db)
    if catalog.get_table(stored_db, name) is not None:
        if tree.args.get("exists"):
            return empty()
        raise QueryFailed("DDL_FAILED", "FAILED: AlreadyExistsException Table already exists")
    columns = []
    if isinstance(schema, exp.Schema):
        for col in schema.expressions:
            if isinstance(col, exp.ColumnDef):
                columns.append({"Name": col.name.lower(), "Type": hive_type(col.args.get("kind"))})
    partition_keys: list[dict[str, str]] = []
    location = None
    fmt = "PARQUET"
    params: dict[str, str] = {"EXTERNAL": "TRUE"}
    serde_params: dict[str, str] = {}
    input_format = output_format = serde_lib = ""
    for prop in properties(tree):
        if isinstance(prop, exp.PartitionedByProperty) and isinstance(prop.this, exp.Schema):
            for col in prop.this.expressions:
                if isinstance(col, exp.ColumnDef):
                    partition_keys.append({"Name": col.name.lower(), "Type": hive_type(col.args.get("kind"))})
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
        sd.update(parquet_format())
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
    catalog.glue.create_table(stored_db, name, table_input)
    return empty()


def drop(catalog: Catalog, tree: exp.Drop, ctx: QueryContext) -> Result:
    kind = (tree.args.get("kind") or "").upper()
    target = tree.this if tree.this is not None else (tree.args.get("tables") or [None])[0]
    if target is None:
        raise syntax_error("mismatched input '<EOF>'. Expecting: identifier")
    if kind in ("DATABASE", "SCHEMA"):
        name = target.name
        stored = catalog.database_name(name)
        if stored is None:
            if tree.args.get("exists"):
                return empty()
            require_database(catalog, name)
        if catalog.table_names(stored) and not tree.args.get("cascade"):
            raise QueryFailed(
                "DDL_FAILED",
                f"FAILED: InvalidOperationException(message:Database {name} is not empty. One or more tables exist.)",
            )
        catalog.glue.delete_database(stored)
        return empty()
    if kind == "TABLE":
        db, name = table_target(target, ctx)
        info = catalog.get_table(db, name)
        if info is None:
            if tree.args.get("exists"):
                return empty()
            require_database(catalog, db)
            raise QueryFailed("DDL_FAILED", f"FAILED: SemanticException [Error 10001]: Table not found {db}.{name}")
        catalog.glue.delete_table(info.database, info.name)  # external data stays, as in Athena
        return empty()
    raise not_supported(f"DROP {kind}")


def partition_input(info: TableInfo, values: list[str], location: str) -> dict[str, Any]:
    """A Glue PartitionInput: the table's storage descriptor at the partition's location."""
    sd = dict(info.raw.get("StorageDescriptor") or {})
    sd["Location"] = location
    return {"Values": values, "StorageDescriptor": sd, "Parameters": {}}


def partition_folder(keys: list[str], values: list[str] | tuple[str, ...]) -> str:
    """``k1=v1/k2=v2``: a partition's folder under its table's location."""
    return "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=False))


def _parse_specs(info: TableInfo, text: str) -> list[tuple[list[str], str | None]]:
    specs = []
    for spec, location in _PART_SPEC.findall(text):
        kv = {}
        for key, raw in re.findall(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^,\s]+)", spec):
            kv[key.lower()] = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
        if any(k.lower() not in kv for k in info.partition_names):
            raise QueryFailed("DDL_FAILED", f"FAILED: SemanticException partition spec {spec} is invalid")
        specs.append(([kv[k.lower()] for k in info.partition_names], location or None))
    if not specs:
        raise syntax_error("mismatched input. Expecting: 'PARTITION'")
    return specs


def msck_repair(catalog: Catalog, m: re.Match[str], ctx: QueryContext) -> Result:
    info = table_from_text(catalog, m.group(1), ctx, m.string)
    if not info.partition_keys or not info.location:
        return text_lines([])
    existing = {tuple(p.values) for p in catalog.partitions(info)}
    prefix = as_prefix(split_s3_url(info.location)[1])
    keys = info.partition_names
    found: dict[tuple[str, ...], str] = {}
    for obj in catalog.list_objects(info.location):
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
        added.append(partition_input(info, list(values), location))
        lines.append(f"Partitions not in metastore:\t{info.name}:{partition_folder(keys, values)}")
    if added:
        catalog.glue.batch_create_partition(info.database, info.name, added)
        lines += [f"Repair: Added partition to metastore {info.name}:{line.split(':')[-1]}" for line in lines]
    return text_lines(lines)


def alter_add_partition(catalog: Catalog, m: re.Match[str], ctx: QueryContext) -> Result:
    info = table_from_text(catalog, m.group(1), ctx, m.string)
    if_not_exists = bool(m.group(2))
    existing = {tuple(p.values) for p in catalog.partitions(info)}
    inputs = []
    for values, location in _parse_specs(info, m.group(3)):
        if tuple(values) in existing:
            if if_not_exists:
                continue
            raise QueryFailed("DDL_FAILED", "FAILED: AlreadyExistsException Partition already exists")
        if location is None:
            location = as_prefix(info.location or "") + partition_folder(info.partition_names, values) + "/"
        inputs.append(partition_input(info, values, location))
    if inputs:
        catalog.glue.batch_create_partition(info.database, info.name, inputs)
    return empty()


def alter_drop_partition(catalog: Catalog, m: re.Match[str], ctx: QueryContext) -> Result:
    info = table_from_text(catalog, m.group(1), ctx, m.string)
    glue_table = catalog.glue.get_table(info.database, info.name)
    for values, _ in _parse_specs(info, m.group(3)):
        if str(values) in glue_table.partitions:
            glue_table.delete_partition(values)
        elif not m.group(2):
            raise QueryFailed("DDL_FAILED", "FAILED: SemanticException [Error 10006]: Partition not found")
    return empty()


STATEMENTS: tuple[tuple[re.Pattern[str], Handler], ...] = (
    (re.compile(r"^MSCK\s+REPAIR\s+TABLE\s+([\w`\".]+)$", re.IGNORECASE), msck_repair),
    (
        re.compile(
            r"^ALTER\s+TABLE\s+([\w`\".]+)\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?(PARTITION\b.*)$", re.IGNORECASE | re.DOTALL
        ),
        alter_add_partition,
    ),
    (
        re.compile(
            r"^ALTER\s+TABLE\s+([\w`\".]+)\s+DROP\s+(IF\s+EXISTS\s+)?(PARTITION\b.*)$", re.IGNORECASE | re.DOTALL
        ),
        alter_drop_partition,
    ),
)
