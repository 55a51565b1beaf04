"""The Trino function library on DuckDB: every function Trino resolves by name, with its signatures
(``signatures``), its result type and its DuckDB form (``registry``), one module per family. Importing
this package registers them all and collects the DuckDB macros they need (``duck.definitions``)."""

from __future__ import annotations

from local_aws.athena.sql.library import (  # noqa: F401 - each module registers its functions
    aggregates,
    arrays,
    conditional,
    datetime,
    decimals,
    json,
    maps,
    math,
    regexp,
    strings,
)
from local_aws.athena.sql.library.duck import definitions
from local_aws.athena.sql.library.known import TRINO_FUNCTIONS
from local_aws.athena.sql.library.registry import (
    AGGREGATE,
    REGISTRY,
    SCALAR,
    WINDOW,
    Call,
    Function,
    NotRegistered,
    Resolved,
    ResolveError,
    lookup,
    resolve,
)


def is_trino_function(name: str) -> bool:
    """Does Trino know this function (registered here or not)?"""
    return name.lower() in REGISTRY or name.lower() in TRINO_FUNCTIONS


__all__ = [
    "AGGREGATE",
    "REGISTRY",
    "SCALAR",
    "WINDOW",
    "Call",
    "Function",
    "NotRegistered",
    "ResolveError",
    "Resolved",
    "definitions",
    "is_trino_function",
    "lookup",
    "resolve",
]
