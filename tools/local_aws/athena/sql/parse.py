"""Athena (Trino) SQL text: parse one statement, classify it, substitute ``?`` parameters, locate words.

Errors are raised as Athena raises them: SYNTAX_ERROR with a 1-based line and column.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from local_aws.athena.errors import QueryFailed, syntax_error
from local_aws.athena.sql.dialect import LocalTrino

READ = "athena"  # Hive DDL and Trino, as Athena routes them
# Statements Athena runs on Trino (queries, CTAS, INSERT, views): parsed with every call kept by name.
_TRINO_STATEMENT = re.compile(
    r"^\s*(?:\(\s*)*(?:SELECT|WITH|VALUES|TABLE|INSERT|CREATE\s+(?:OR\s+REPLACE\s+)?VIEW|CREATE\s+TABLE\b.*?\bAS\b\s*\(?\s*(?:SELECT|WITH|VALUES))\b",
    re.IGNORECASE | re.DOTALL,
)
# A comma followed by one of these cannot continue a list: Trino reports the word as mismatched input.
_AFTER_LIST = {
    TokenType.FROM, TokenType.WHERE, TokenType.GROUP_BY, TokenType.HAVING, TokenType.ORDER_BY,
    TokenType.LIMIT, TokenType.UNION, TokenType.EXCEPT, TokenType.INTERSECT, TokenType.R_PAREN, TokenType.COMMA,
}  # fmt: skip

logging.getLogger("sqlglot").setLevel(logging.ERROR)


def position_of(sql: str, word: str, start: int = 0) -> tuple[int, int] | None:
    """1-based (line, column) of the first whole-word occurrence of ``word`` (Athena's convention)."""
    if not word:
        return None
    match = re.search(rf"(?<![\w.\"]){re.escape(word)}(?![\w])", sql[start:], re.IGNORECASE)
    if not match:
        match = re.search(re.escape(word), sql[start:], re.IGNORECASE)
    if not match:
        return None
    offset = start + match.start()
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _is_literal(node: exp.Expression) -> bool:
    if isinstance(node, (exp.Literal, exp.Boolean, exp.Null)):
        return True
    if isinstance(node, exp.Neg):
        return isinstance(node.this, exp.Literal) and not node.this.is_string
    if isinstance(node, exp.Cast):  # DATE '2024-01-01', TIMESTAMP '...'
        return isinstance(node.this, exp.Literal) and node.this.is_string
    return False


def substitute_parameters(sql: str, parameters: Sequence[str] | None) -> str:
    """Replace each ``?`` placeholder with its parameter, accepting only literals (no injection)."""
    try:
        tokens = sqlglot.tokenize(sql, read=READ)
    except TokenError as err:
        raise syntax_error(str(err)) from err
    holes = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    params = list(parameters or [])
    if not holes:
        if params:
            raise QueryFailed(
                "INVALID_PARAMETER_USAGE", f"Incorrect number of parameters: expected 0 but found {len(params)}"
            )
        return sql
    if len(holes) != len(params):
        raise QueryFailed(
            "INVALID_PARAMETER_USAGE",
            f"Incorrect number of parameters: expected {len(holes)} but found {len(params)}",
        )
    out: list[str] = []
    cursor = 0
    for token, value in zip(holes, params, strict=True):
        try:
            parsed = sqlglot.parse_one(value, read=READ)
        except (ParseError, TokenError) as err:
            raise syntax_error(f"Invalid execution parameter {value!r}") from err
        if not _is_literal(parsed):
            raise QueryFailed("INVALID_PARAMETER_USAGE", f"Execution parameter {value!r} is not a literal")
        out.append(sql[cursor : token.start])
        out.append(value)
        cursor = token.end + 1
    out.append(sql[cursor:])
    return "".join(out)


def _line_col(sql: str, offset: int) -> tuple[int, int]:
    line = sql.count("\n", 0, offset) + 1
    return line, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def _check_dangling_commas(sql: str, dialect: object) -> None:
    """``SELECT a, FROM t``: sqlglot forgives the comma, Trino does not."""
    try:
        tokens = sqlglot.tokenize(sql, dialect=dialect)  # type: ignore[arg-type]
    except TokenError as err:
        raise syntax_error(str(err)) from err
    for comma, following in itertools.pairwise(tokens):
        if comma.token_type == TokenType.COMMA and following.token_type in _AFTER_LIST:
            raise syntax_error(
                f"mismatched input '{following.text}'. Expecting: <expression>", _line_col(sql, following.start)
            )


def is_trino_statement(sql: str) -> bool:
    return bool(_TRINO_STATEMENT.match(strip_comments(sql)))


def parse_statement(sql: str) -> exp.Expression:
    """Parse exactly one statement as Athena would route it, raising SYNTAX_ERROR like Athena."""
    dialect = LocalTrino if is_trino_statement(sql) else READ
    if dialect is LocalTrino:
        _check_dangling_commas(sql, dialect)
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        line, col = first.get("line"), first.get("col")
        desc = first.get("description") or str(err).splitlines()[0]
        highlight = (first.get("highlight") or "").strip()
        msg = f"mismatched input '{highlight}'. {desc}" if highlight else desc
        pos = None
        if line and col:
            pos = (int(line), max(1, int(col) - len(highlight) + 1 if highlight else int(col)))
        raise syntax_error(msg, pos) from err
    except TokenError as err:
        raise syntax_error(str(err)) from err
    except RecursionError as err:
        raise QueryFailed("NOT_SUPPORTED", "Query is nested too deeply for the local Athena endpoint") from err
    if not statements:
        raise syntax_error("mismatched input '<EOF>'. Expecting: statement", (1, 1))
    if len(statements) > 1:
        raise QueryFailed("MULTIPLE_STATEMENTS", "Only one sql statement is allowed. Got: " + sql.strip())
    return statements[0]


_UTILITY = re.compile(r"^\s*(SHOW|DESCRIBE|DESC|EXPLAIN)\b", re.IGNORECASE)
_DDL = re.compile(r"^\s*(CREATE|DROP|ALTER|MSCK)\b", re.IGNORECASE)
_CTAS = re.compile(r"^\s*CREATE\s+TABLE\b.*?\bAS\b\s*\(?\s*(SELECT|WITH|VALUES)\b", re.IGNORECASE | re.DOTALL)


def strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", " ", sql).strip()


def statement_type(sql: str) -> str:
    """Athena's StatementType: DDL, DML (queries, CTAS, INSERT) or UTILITY (SHOW, DESCRIBE, EXPLAIN)."""
    body = strip_comments(sql)
    if _UTILITY.match(body):
        return "UTILITY"
    if _CTAS.match(body):
        return "DML"
    if _DDL.match(body):
        return "DDL"
    return "DML"
