"""The DuckDB database every query runs in: Trino's session (UTC) and function library, set up once.

Defining the library's macros takes tens of milliseconds, so they are created once per engine in one
in-memory database; each query then gets its own connection to it (``cursor()``, microseconds), which
sees the macros and Python functions but keeps its temp views to itself and can be interrupted alone.
The few functions SQL cannot express exactly (Java's text of a double, Unicode normalization forms)
are Python functions registered here.
"""

from __future__ import annotations

import threading
import unicodedata

import duckdb
from duckdb.sqltypes import DOUBLE, FLOAT, VARCHAR

from local_aws.athena.rendering import java_double, java_float
from local_aws.athena.sql import library

SETTINGS = ("SET GLOBAL TimeZone = 'UTC'",)


def _normalize(text: str, form: str) -> str:
    name = form.upper()
    if name not in ("NFC", "NFD", "NFKC", "NFKD"):
        raise ValueError(f"INVALID_FUNCTION_ARGUMENT: Invalid normalization form: {form}")
    return unicodedata.normalize(name, text)  # type: ignore[arg-type]


class Database:
    """One DuckDB database with the Trino session; ``connect()`` hands out per-query connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: duckdb.DuckDBPyConnection | None = None

    def _setup(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        for statement in SETTINGS:
            con.execute(statement)
        con.create_function("trino_double_text", java_double, [DOUBLE], VARCHAR, side_effects=False)
        con.create_function("trino_real_text", java_float, [FLOAT], VARCHAR, side_effects=False)
        con.create_function("trino_normalize", _normalize, [VARCHAR, VARCHAR], VARCHAR, side_effects=False)
        for statement in library.definitions():
            con.execute(statement)
        return con

    def connect(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._base is None:
                self._base = self._setup()
            return self._base.cursor()


DATABASE = Database()
