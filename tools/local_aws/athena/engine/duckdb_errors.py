"""DuckDB's errors in Athena's words, as a table of rules tried in order.

A rule matches by exception class and, optionally, a pattern searched in DuckDB's message; its
group 1 (a column, table or function name) goes into the message and is located in the SQL for
Athena's ``line L:C``. A new mapping is one row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from local_aws.athena.engine.context import QueryContext
from local_aws.athena.errors import ERRORS, QueryFailed
from local_aws.athena.sql.parse import position_of


@dataclass(frozen=True)
class Rule:
    error: str  # a key of errors.ERRORS
    message: str  # "{0}": the pattern's group 1; "{first}": DuckDB's first message line
    pattern: re.Pattern[str] | None = None
    exception: type[duckdb.Error] | tuple[type[duckdb.Error], ...] = duckdb.Error


RULES: tuple[Rule, ...] = (
    # raised by the function library's macros as error('NAME: message')
    Rule("{tagged}", "{1}", re.compile(r"(?:^|Error: )([A-Z][A-Z_]+[A-Z]): (.*)", re.DOTALL)),
    Rule(
        "NUMERIC_VALUE_OUT_OF_RANGE",
        "{first}",
        re.compile(r"Overflow in (?:addition|subtraction|multiplication|negation)"),
    ),
    Rule("NUMERIC_VALUE_OUT_OF_RANGE", "{first}", re.compile(r"out of range for the destination type")),
    Rule(
        "SUBQUERY_MULTIPLE_ROWS",
        "Scalar sub-query has returned multiple rows",
        re.compile(r"More than one row returned by a subquery"),
    ),
    Rule("COLUMN_NOT_FOUND", "Column '{0}' cannot be resolved", re.compile(r'Referenced column "([^"]+)" not found')),
    Rule(
        "COLUMN_NOT_FOUND",
        "Column '{0}' cannot be resolved",
        re.compile(r'column "?([^"\s]+)"? (?:not found|does not exist)'),
    ),
    Rule(
        "COLUMN_NOT_FOUND",
        "Column prefix '{0}' cannot be resolved",
        re.compile(r'Referenced table "([^"]+)" not found'),
    ),
    Rule(
        "FUNCTION_NOT_FOUND",
        "Function '{0}' not registered",
        re.compile(r"(?:Scalar|Aggregate|Table) Function with name (\w+) does not exist"),
    ),
    Rule(
        "EXPRESSION_NOT_AGGREGATE",
        "'{0}' must be an aggregate expression or appear in GROUP BY clause",
        re.compile(r'column "?([^"\s]+)"? must appear in the GROUP BY clause'),
    ),
    Rule("DIVISION_BY_ZERO", "Division by zero", re.compile(r"Division by zero")),
    Rule("INVALID_CAST_ARGUMENT", "{first}", exception=duckdb.ConversionException),
    Rule("SYNTAX_ERROR", "{first}", exception=duckdb.ParserException),
    Rule("FUNCTION_NOT_FOUND", "{first}", re.compile(r"No function matches"), duckdb.BinderException),
    Rule("SYNTAX_ERROR", "{first}", exception=duckdb.BinderException),
    Rule("INVALID_FUNCTION_ARGUMENT", "{first}", exception=(duckdb.InvalidInputException, duckdb.OutOfRangeException)),
)


def query_failed(err: duckdb.Error, sql_text: str, ctx: QueryContext) -> QueryFailed:
    """The Athena failure for a DuckDB error raised while running ``sql_text``."""
    if ctx.cancelled.is_set() or isinstance(err, duckdb.InterruptException):
        return QueryFailed("USER_CANCELED", "Query was canceled by user")
    msg = str(err)
    first = msg.splitlines()[0] if msg else type(err).__name__
    for rule in RULES:
        if not isinstance(err, rule.exception):
            continue
        match = rule.pattern.search(msg) if rule.pattern is not None else None
        if rule.pattern is not None and match is None:
            continue
        if rule.error == "{tagged}":
            assert rule.pattern is not None
            tagged = next((m for m in rule.pattern.finditer(msg) if m.group(1) in ERRORS), None)
            if tagged is None:
                continue
            return QueryFailed(tagged.group(1), tagged.group(2).splitlines()[0].strip())
        word = match.group(1) if match is not None and match.groups() else None
        return QueryFailed(
            rule.error,
            rule.message.format(word, first=first),
            position=position_of(sql_text, word) if word else None,
        )
    return QueryFailed("GENERIC_INTERNAL_ERROR", first)
