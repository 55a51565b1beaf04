"""The Trino function library on DuckDB: session settings and macros, and call rewrites.

sqlglot's ``athena`` reader already maps most Trino functions to DuckDB; what it leaves is filled
in here, either as a DuckDB macro (a function DuckDB lacks, passed through by name) or as a
rewrite of the call (Joda-Time patterns, ``count_if`` over no rows, printf-style ``format``).
"""

from __future__ import annotations

from sqlglot import exp

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


def rewrite_call(node: exp.Expression) -> exp.Expression:
    """The DuckDB form of a Trino function call DuckDB lacks or spells differently (else ``node``)."""
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
    return node
