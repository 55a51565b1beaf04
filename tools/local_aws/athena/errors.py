"""Athena's failure vocabulary, as a table: each error a query can fail with, and how Athena files it.

A failed query carries ``Status.StateChangeReason`` (``NAME: line L:C: message``) and
``Status.AthenaError`` (ErrorCategory, ErrorType, Retryable). Every layer raises
:class:`QueryFailed` with a name from :data:`ERRORS`; the table alone decides the category and type
(values from Athena's error catalogue: category 1 system, 2 user; type 200 engine-internal, 401
result write, 1000 user, 1001 data, 1003 DDL, 1006 syntax and semantic errors). A new error is one
row here.
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.core.exceptions import JsonRESTError

CATEGORY_SYSTEM = 1
CATEGORY_USER = 2

TYPE_INTERNAL = 200
TYPE_RESULT_WRITE = 401
TYPE_USER = 1000
TYPE_DATA = 1001
TYPE_DDL = 1003
TYPE_SYNTAX = 1006  # also used by Athena for semantic errors (missing table/column)


@dataclass(frozen=True)
class ErrorKind:
    error_type: int
    category: int = CATEGORY_USER
    # Trino errors read "NAME: message"; Hive DDL failures and service messages stand alone.
    shows_name: bool = True


ERRORS: dict[str, ErrorKind] = {
    # Trino's error names (the engine's analysis and execution)
    "SYNTAX_ERROR": ErrorKind(TYPE_SYNTAX),
    "CATALOG_NOT_FOUND": ErrorKind(TYPE_SYNTAX),
    "SCHEMA_NOT_FOUND": ErrorKind(TYPE_SYNTAX),
    "TABLE_NOT_FOUND": ErrorKind(TYPE_SYNTAX),
    "TABLE_ALREADY_EXISTS": ErrorKind(TYPE_SYNTAX),
    "COLUMN_NOT_FOUND": ErrorKind(TYPE_SYNTAX),
    "FUNCTION_NOT_FOUND": ErrorKind(TYPE_SYNTAX),
    "EXPRESSION_NOT_AGGREGATE": ErrorKind(TYPE_SYNTAX),
    "TYPE_MISMATCH": ErrorKind(TYPE_SYNTAX),
    "TYPE_NOT_FOUND": ErrorKind(TYPE_SYNTAX),
    "AMBIGUOUS_NAME": ErrorKind(TYPE_SYNTAX),
    "MISSING_OVER": ErrorKind(TYPE_SYNTAX),
    "NESTED_AGGREGATION": ErrorKind(TYPE_SYNTAX),
    "NESTED_WINDOW": ErrorKind(TYPE_SYNTAX),
    "EXPRESSION_NOT_SCALAR": ErrorKind(TYPE_SYNTAX),
    "EXPRESSION_NOT_IN_DISTINCT": ErrorKind(TYPE_SYNTAX),
    "FUNCTION_NOT_WINDOW": ErrorKind(TYPE_SYNTAX),
    "FUNCTION_NOT_AGGREGATE": ErrorKind(TYPE_SYNTAX),
    "INVALID_COLUMN_REFERENCE": ErrorKind(TYPE_SYNTAX),
    "DUPLICATE_NAMED_QUERY": ErrorKind(TYPE_SYNTAX),
    "MISMATCHED_COLUMN_ALIASES": ErrorKind(TYPE_SYNTAX),
    "MISSING_ORDER_BY": ErrorKind(TYPE_SYNTAX),
    "INVALID_LITERAL": ErrorKind(TYPE_SYNTAX),
    "VIEW_IS_STALE": ErrorKind(TYPE_SYNTAX),
    "VIEW_IS_RECURSIVE": ErrorKind(TYPE_SYNTAX),
    "INVALID_PARAMETER_USAGE": ErrorKind(TYPE_SYNTAX),
    "NOT_SUPPORTED": ErrorKind(TYPE_SYNTAX),
    "USER_CANCELED": ErrorKind(TYPE_SYNTAX),
    "INVALID_FUNCTION_ARGUMENT": ErrorKind(TYPE_USER),
    "INVALID_CAST_ARGUMENT": ErrorKind(TYPE_DATA),
    "NUMERIC_VALUE_OUT_OF_RANGE": ErrorKind(TYPE_DATA),
    "SUBQUERY_MULTIPLE_ROWS": ErrorKind(TYPE_USER),
    "DIVISION_BY_ZERO": ErrorKind(TYPE_DATA),
    "GENERIC_INTERNAL_ERROR": ErrorKind(TYPE_INTERNAL, CATEGORY_SYSTEM),
    # the Hive connector's names (reading and writing table data)
    "HIVE_BAD_DATA": ErrorKind(TYPE_DATA),
    "HIVE_UNSUPPORTED_FORMAT": ErrorKind(TYPE_DATA),
    "HIVE_PATH_ALREADY_EXISTS": ErrorKind(TYPE_DATA),
    # messages Athena shows without an error name
    "DDL_FAILED": ErrorKind(TYPE_DDL, shows_name=False),  # the Hive metastore's "FAILED: ..." lines
    "USER_ERROR": ErrorKind(TYPE_USER, shows_name=False),
    "MULTIPLE_STATEMENTS": ErrorKind(TYPE_SYNTAX, shows_name=False),
    "QUERY_CANCELLED": ErrorKind(TYPE_SYNTAX, shows_name=False),  # StopQueryExecution's reason
    "RESULT_WRITE_FAILED": ErrorKind(TYPE_RESULT_WRITE, CATEGORY_SYSTEM, shows_name=False),
}


class QueryFailed(Exception):
    """A query failure as Athena reports it; ``error`` is a key of :data:`ERRORS`."""

    def __init__(self, error: str, message: str, *, position: tuple[int, int] | None = None) -> None:
        self.kind = ERRORS[error]  # an unknown name is a bug here, not a user error
        self.error = error
        self.name = error if self.kind.shows_name else ""
        self.detail = message
        self.position = position
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        where = f"line {self.position[0]}:{self.position[1]}: " if self.position else ""
        prefix = f"{self.name}: " if self.name else ""
        return f"{prefix}{where}{self.detail}"

    def athena_error(self) -> dict[str, object]:
        return {
            "ErrorCategory": self.kind.category,
            "ErrorType": self.kind.error_type,
            "Retryable": False,
            "ErrorMessage": self.reason,
        }


def not_supported(what: str, position: tuple[int, int] | None = None) -> QueryFailed:
    """A loud failure for what this endpoint cannot do as Athena does (never a different answer)."""
    return QueryFailed("NOT_SUPPORTED", f"{what} is not supported by the local Athena endpoint", position=position)


def syntax_error(message: str, position: tuple[int, int] | None = None) -> QueryFailed:
    return QueryFailed("SYNTAX_ERROR", message, position=position)


class InvalidRequestException(JsonRESTError):
    """Athena's API-level error (bad id, bad parameters, missing output location)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestException", message)


class MetadataException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("MetadataException", message)
