"""UTILITY statements: SHOW TABLES/DATABASES/PARTITIONS/COLUMNS and DESCRIBE, answered from Glue.

Athena returns these as tab-separated text lines without a header row.
"""

from __future__ import annotations

import re

from sqlglot import exp

from local_aws.athena.catalog import Catalog
from local_aws.athena.engine.context import Handler, QueryContext, Result
from local_aws.athena.engine.ddl import partition_folder
from local_aws.athena.engine.resolve import resolve_table, table_from_text
from local_aws.athena.errors import QueryFailed, not_supported
from local_aws.athena.sql import types as T


def _like(pattern: str | None, names: list[str]) -> list[str]:
    """SHOW ... LIKE 'pattern': ``*`` is any text, matched case-insensitively."""
    if not pattern:
        return names
    regex = re.compile("^" + pattern.replace("*", ".*") + "$", re.IGNORECASE)
    return [n for n in names if regex.match(n)]


def _column(name: str, values: list[str]) -> Result:
    return Result([name], [T.VARCHAR], [(v,) for v in values], header=False)


def show_tables(catalog: Catalog, m: re.Match[str], ctx: QueryContext) -> Result:
    db = (m.group(1) or ctx.database or "default").strip('`"')
    stored = catalog.database_name(db)
    if stored is None:
        raise QueryFailed("SCHEMA_NOT_FOUND", f"Schema '{db}' does not exist")
    return _column("tab_name", _like(m.group(2), sorted(catalog.table_names(stored))))


def show_databases(catalog: Catalog, m: re.Match[str], ctx: QueryContext) -> Result:
    return _column("database_name", _like(m.group(1), sorted(d.name for d in catalog.databases())))


def show_partitions(catalog: Catalog, m: re.Match[str], ctx: QueryContext) -> Result:
    info = table_from_text(catalog, m.group(1), ctx, m.string)
    if not info.partition_keys:
        raise QueryFailed("DDL_FAILED", f"FAILED: SemanticException Table {info.name} is not a partitioned table")
    return _column(
        "partition", sorted(partition_folder(info.partition_names, p.values) for p in catalog.partitions(info))
    )


def show_columns(catalog: Catalog, m: re.Match[str], ctx: QueryContext) -> Result:
    info = table_from_text(catalog, m.group(1), ctx, m.string)
    return _column("field", [c.name for c in info.columns + info.partition_keys])


def describe(catalog: Catalog, tree: exp.Describe, ctx: QueryContext) -> Result:
    target = tree.this
    if not isinstance(target, exp.Table):
        raise not_supported("DESCRIBE of anything but a table")
    info = resolve_table(catalog, target, ctx.database, None)
    rows = [f"{c.name}\t{c.type}\t{c.comment or ''}" for c in info.columns + info.partition_keys]
    if info.partition_keys:
        rows += ["\t\t", "# Partition Information\t\t", "# col_name\tdata_type\tcomment", "\t\t"]
        rows += [f"{c.name}\t{c.type}\t{c.comment or ''}" for c in info.partition_keys]
    return _column("col_name", rows)


STATEMENTS: tuple[tuple[re.Pattern[str], Handler], ...] = (
    (
        re.compile(r"^SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+([\w`\"]+))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.IGNORECASE),
        show_tables,
    ),
    (re.compile(r"^SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.IGNORECASE), show_databases),
    (re.compile(r"^SHOW\s+PARTITIONS\s+([\w`\".]+)$", re.IGNORECASE), show_partitions),
    (re.compile(r"^SHOW\s+COLUMNS\s+(?:IN|FROM)\s+([\w`\".]+)$", re.IGNORECASE), show_columns),
)
