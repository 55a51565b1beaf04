"""Athena (Trino) SQL -> DuckDB SQL, with only the gaps sqlglot leaves patched.

sqlglot's ``athena`` reader already maps most Trino functions to DuckDB; this module adds what it
does not do (Joda patterns, date arithmetic staying a date, ``_colN`` output names), substitutes
``?`` execution parameters safely, classifies statements and finds the catalog tables a query
reads plus the WHERE conjuncts that can prune their partitions. Integer division and the UTC
session time zone are set on the DuckDB connection (``SESSION_SETTINGS``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from .errors import QueryFailed

READ = "athena"
WRITE = "duckdb"

logging.getLogger("sqlglot").setLevel(logging.ERROR)

# DuckDB settings that give Trino semantics (`7/2 = 3`, UTC session zone), then macros for the Trino
# functions DuckDB lacks and sqlglot passes through by name.
SESSION_SETTINGS = (
    "SET integer_division = true",
    "SET TimeZone = 'UTC'",
    "CREATE MACRO every(x) AS bool_and(x)",
    "CREATE MACRO infinity() AS CAST('inf' AS DOUBLE)",
    "CREATE MACRO nan() AS CAST('nan' AS DOUBLE)",
    "CREATE MACRO current_timezone() AS 'UTC'",
    "CREATE MACRO map_agg(k, v) AS map(list(k), list(v))",
    "CREATE MACRO to_iso8601(x) AS strftime(CAST(x AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%g')",
)


# --------------------------------------------------------------------------- positions, errors


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


def syntax_error(message: str, position: tuple[int, int] | None = None) -> QueryFailed:
    return QueryFailed("SYNTAX_ERROR", message, position=position)


# --------------------------------------------------------------------------- parameters


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


# --------------------------------------------------------------------------- parsing, classifying


def parse_statement(sql: str) -> exp.Expression:
    """Parse exactly one statement in Athena's dialect, raising SYNTAX_ERROR like Athena."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=READ) if s is not None]
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
    if not statements:
        raise syntax_error("mismatched input '<EOF>'. Expecting: statement", (1, 1))
    if len(statements) > 1:
        raise QueryFailed("", "Only one sql statement is allowed. Got: " + sql.strip(), error_type=1006)
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


# --------------------------------------------------------------------------- Joda patterns

_JODA = [
    ("yyyy", "%Y"),
    ("YYYY", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("dd", "%d"),
    ("d", "%-d"),
    ("DDD", "%j"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("s", "%-S"),
    ("SSSSSSSSS", "%n"),
    ("SSSSSS", "%f"),
    ("SSS", "%g"),
    ("a", "%p"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("ZZ", "%z"),
    ("Z", "%z"),
    ("z", "%Z"),
]


def joda_to_strftime(pattern: str) -> str:
    """Convert a Joda-Time pattern (Trino's format_datetime/parse_datetime) to strftime."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            literal = pattern[i + 1 : end]
            out.append("'" if literal == "" else literal.replace("%", "%%"))
            i = end + 1
            continue
        for token, repl in _JODA:
            if pattern.startswith(token, i):
                out.append(repl)
                i += len(token)
                break
        else:
            out.append("%%" if ch == "%" else ch)
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------- translation

_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _is_date_expr(node: exp.Expression, date_columns: set[str]) -> bool:
    """Best-effort static typing: does this Trino expression yield a DATE?"""
    if isinstance(node, exp.Paren):
        return _is_date_expr(node.this, date_columns)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.is_type(exp.DataType.Type.DATE)
    if isinstance(node, (exp.CurrentDate, exp.TsOrDsToDate, exp.StrToDate, exp.Date, exp.DateFromParts)):
        return True
    if isinstance(node, exp.Column):
        return node.name.lower() in date_columns
    if isinstance(node, (exp.DateAdd, exp.DateSub)):
        unit = (node.text("unit") or "DAY").upper()
        return unit in _DATE_UNITS and _is_date_expr(node.this, date_columns)
    if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)):
        return False
    return False


def _unit_name(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    if unit is None:
        return "DAY"
    return (unit.name if isinstance(unit, exp.Expression) else str(unit)).upper()


def _transform(node: exp.Expression, date_columns: set[str]) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        args = node.expressions
        if name == "format_datetime" and len(args) == 2 and isinstance(args[1], exp.Literal):
            return exp.func("strftime", args[0], exp.Literal.string(joda_to_strftime(args[1].this)))
        if name == "parse_datetime" and len(args) == 2 and isinstance(args[1], exp.Literal):
            return exp.func("strptime", args[0], exp.Literal.string(joda_to_strftime(args[1].this)))
    if isinstance(node, exp.CountIf):
        # Trino's count_if over no rows is 0; DuckDB's COUNT_IF is NULL there.
        return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=node.this.copy()))
    if isinstance(node, exp.Format):  # Trino format() is printf-style; DuckDB's format() is fmt-style
        return exp.func("printf", node.this, *node.expressions)
    if isinstance(node, exp.ParseDatetime):
        fmt = node.args.get("format")
        if isinstance(fmt, exp.Literal):
            return exp.func("strptime", node.this, exp.Literal.string(joda_to_strftime(fmt.this)))
    if (
        isinstance(node, (exp.DateAdd, exp.DateSub))
        and _unit_name(node) in _DATE_UNITS
        and _is_date_expr(node.this, date_columns)
    ):
        # DuckDB's DATE + INTERVAL is a TIMESTAMP; Trino's date_add on a date stays a date.
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    if (
        isinstance(node, (exp.DateTrunc, exp.TimestampTrunc))
        and _unit_name(node) in _DATE_UNITS
        and _is_date_expr(node.this, date_columns)
    ):
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    return node


def name_output_columns(tree: exp.Expression) -> None:
    """Give unaliased computed columns Athena's names ``_col0``, ``_col1`` ... (by position)."""
    select: exp.Expression | None = tree
    while isinstance(select, (exp.Union, exp.Except, exp.Intersect)):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.unnest()
    if not isinstance(select, exp.Select):
        return
    for i, projection in enumerate(list(select.expressions)):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
            continue
        if isinstance(projection, exp.Dot):
            continue
        projection.replace(exp.alias_(projection.copy(), f"_col{i}", quoted=False))


def translate(tree: exp.Expression, date_columns: Iterable[str] = ()) -> str:
    """Generate DuckDB SQL for a (table-rewritten) Trino AST."""
    dates = {c.lower() for c in date_columns}
    out = tree.copy()
    # Reversed pre-order visits children before parents, so nested calls are rewritten too.
    for node in reversed(list(out.dfs())):
        new = _transform(node, dates)
        if new is node:
            continue
        if node is out:
            out = new
        else:
            node.replace(new)
    try:
        return out.sql(dialect=WRITE)
    except Exception as err:  # sqlglot UnsupportedError and friends
        raise QueryFailed("NOT_SUPPORTED", str(err)) from err


def translate_text(sql: str, date_columns: Iterable[str] = ()) -> str:
    """Parse + name columns + translate; handy for tests and simple callers."""
    tree = parse_statement(sql)
    name_output_columns(tree)
    return translate(tree, date_columns)


# --------------------------------------------------------------------------- table references


def cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def catalog_tables(tree: exp.Expression) -> list[exp.Table]:
    """Table nodes that name catalog tables (not CTEs, not table functions like UNNEST)."""
    ctes = cte_names(tree)
    found: list[exp.Table] = []
    for table in tree.find_all(exp.Table):
        if not table.name or isinstance(table.this, (exp.Anonymous, exp.Func)):
            continue
        if not table.args.get("db") and table.name.lower() in ctes:
            continue
        found.append(table)
    return found


_NOT_PRUNABLE = (
    exp.Is,
    exp.Coalesce,
    exp.Case,
    exp.If,
    exp.Nullif,
    exp.Subquery,
    exp.Select,
    exp.AggFunc,
    exp.Window,
    exp.Placeholder,
    exp.Rand,
)


def partition_conjuncts(table: exp.Table, partition_keys: Sequence[str]) -> list[exp.Expression]:
    """WHERE conjuncts of the SELECT reading ``table`` that use only its partition keys.

    Only null-rejecting predicates are returned (no IS NULL/COALESCE/CASE), so pruning is safe even
    when the table sits on the outer side of a join. Columns come back unqualified.
    """
    keys = {k.lower() for k in partition_keys}
    if not keys:
        return []
    parent = table.parent
    if not isinstance(parent, (exp.From, exp.Join)):
        return []
    select = parent.parent
    if not isinstance(select, exp.Select):
        return []
    where = select.args.get("where")
    if where is None:
        return []
    alias = (table.alias or table.name).lower()
    from_ = select.args.get("from_") or select.args.get("from")
    sources = [from_.this] if from_ is not None else []
    sources += [j.this for j in select.args.get("joins") or []]
    single_source = len(sources) == 1
    result: list[exp.Expression] = []
    for conj in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if any(isinstance(n, _NOT_PRUNABLE) for n in conj.walk()):
            continue
        columns = list(conj.find_all(exp.Column))
        if not columns:
            continue
        ok = True
        for col in columns:
            qualifier = col.table.lower()
            if col.name.lower() not in keys or (qualifier and qualifier != alias):
                ok = False
                break
            if not qualifier and not single_source:
                ok = False
                break
        if not ok:
            continue
        stripped = conj.copy()
        for col in stripped.find_all(exp.Column):
            col.set("table", None)
            col.set("db", None)
            col.set("catalog", None)
        result.append(stripped)
    return result
