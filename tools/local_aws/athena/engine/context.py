"""What every statement handler shares: the execution context, the result, DuckDB connections, quoting."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from local_aws.athena.catalog import Catalog
from local_aws.athena.engine.database import DATABASE
from local_aws.athena.sql import types as T
from local_aws.athena.sql.types import TrinoType


@dataclass
class QueryContext:
    """What one execution needs besides the SQL: defaults, identity, output and cancellation."""

    query_id: str
    database: str | None
    output_location: str | None
    parameters: Sequence[str] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    connection: Any = None  # the live DuckDB connection, for interrupt()


@dataclass
class Result:
    columns: list[str]
    types: list[TrinoType]  # Trino types: they choose the text of each value and the ColumnInfo
    rows: list[tuple[Any, ...]]
    data_scanned: int = 0
    header: bool = True  # DML results carry a header row; DDL/UTILITY ones do not
    update_count: int | None = None  # rows written by CTAS / INSERT INTO


# A statement matched by a pattern (SHOW ..., MSCK ..., ALTER TABLE ... PARTITION): the match's
# string is the statement without comments.
Handler = Callable[[Catalog, re.Match[str], "QueryContext"], "Result"]


def empty(header: bool = False) -> Result:
    """The result of a statement that returns no rows (DDL; CTAS/INSERT set ``header``)."""
    return Result([], [], [], header=header)


def text_lines(lines: list[str]) -> Result:
    """A UTILITY/DDL result of text lines (MSCK REPAIR's report)."""
    return Result(["result"] if lines else [], [T.VARCHAR] if lines else [], [(line,) for line in lines], header=False)


def session_connection() -> duckdb.DuckDBPyConnection:
    """A connection to the engine's DuckDB database (UTC session, Trino's function library)."""
    return DATABASE.connect()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
