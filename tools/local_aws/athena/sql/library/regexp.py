"""Regular expression functions (trino.io/docs/current/functions/regexp.html) on DuckDB's RE2.

Trino's patterns are Java's; the common syntax (classes, groups, anchors, ``(?i)``, ``\\b``) is the same
in RE2. What differs is handled here: no match gives NULL (not ''), a replacement's ``$1`` is RE2's
``\\1``, and ``regexp_replace`` with a lambda is rebuilt from the match list and the pieces between.
"""

from __future__ import annotations

import re

from sqlglot import exp

from local_aws.athena.errors import QueryFailed, not_supported
from local_aws.athena.sql.library.duck import apply_lambda, fn, lam, lit, macro
from local_aws.athena.sql.library.registry import Call, define


def java_replacement(text: str) -> str:
    """A Java ``Matcher.replaceAll`` replacement (``$1``, ``\\$``) in RE2's syntax (``\\1``)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
            continue
        if ch == "$":
            match = re.match(r"\$(\d+)", text[i:])
            if match is None:
                raise QueryFailed("INVALID_FUNCTION_ARGUMENT", f"Illegal group reference in replacement: {text}")
            out.append("\\" + match.group(1))
            i += len(match.group(0))
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _replace(args: list[exp.Expression], call: Call) -> exp.Expression:
    if len(args) == 2:
        return fn("regexp_replace", args[0], args[1], lit(""), lit("g"))
    if isinstance(args[2], exp.Lambda):
        return _replace_with_lambda(args, call)
    replacement = args[2]
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        replacement = lit(java_replacement(replacement.this))
    else:
        replacement = fn("trino_java_replacement", replacement)
    return fn("regexp_replace", args[0], args[1], replacement, lit("g"))


def _group_count(pattern: exp.Expression) -> int:
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise QueryFailed(
            "NOT_SUPPORTED",
            "regexp_replace with a lambda needs a constant pattern on the local Athena endpoint",
        )
    try:
        return re.compile(pattern.this).groups
    except re.error as err:
        raise QueryFailed("INVALID_FUNCTION_ARGUMENT", f"Invalid regular expression {pattern.this}: {err}") from err


def _replace_with_lambda(args: list[exp.Expression], call: Call) -> exp.Expression:
    """Pieces between matches interleaved with f(groups of the match): the i-th match's groups are the
    i-th elements of ``regexp_extract_all(s, p, g)`` for each group g."""
    s, p, f = args
    groups = _group_count(p)
    i = exp.column("__m")
    group_values = exp.Array(
        expressions=[
            exp.Bracket(this=fn("regexp_extract_all", s.copy(), p.copy(), lit(g)), expressions=[i.copy()])
            for g in range(1, groups + 1)
        ]
    )
    pieces = fn("string_split_regex", s.copy(), p.copy())
    replaced = apply_lambda(f, group_values)
    joined = fn(
        "array_to_string",
        fn(
            "list_transform",
            fn(
                "range",
                lit(1),
                exp.Add(this=fn("len", fn("regexp_extract_all", s.copy(), p.copy())), expression=lit(1)),
            ),
            lam(["__m"], exp.DPipe(this=exp.Bracket(this=pieces, expressions=[i.copy()]), expression=replaced)),
        ),
        lit(""),
    )
    last = exp.Bracket(this=pieces.copy(), expressions=[fn("len", pieces.copy())])
    return exp.DPipe(this=joined, expression=last)


def constant(node: exp.Expression) -> exp.Expression:
    """A literal argument without its type cast (DuckDB wants some arguments as plain constants)."""
    while isinstance(node, exp.Cast) and isinstance(node.this, (exp.Literal, exp.Cast)):
        node = node.this
    return node


define("regexp_like", "regexp_like(varchar, varchar) -> boolean", duck="regexp_matches")


def _group_call(name: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        group = constant(args[2]) if len(args) > 2 else lit(0)
        if isinstance(group, exp.Null):
            return exp.Cast(this=exp.Null(), to=call.returns.datatype())
        if not isinstance(group, exp.Literal):
            raise not_supported(f"{call.name} with a group that is not a constant")
        return fn(name, args[0], args[1], group)

    return build


define(
    "regexp_extract",
    "regexp_extract(varchar, varchar) -> varchar",
    "regexp_extract(varchar, varchar, bigint) -> varchar",
    duck=_group_call("trino_regexp_extract"),
)
define(
    "regexp_extract_all",
    "regexp_extract_all(varchar, varchar) -> array(varchar)",
    "regexp_extract_all(varchar, varchar, bigint) -> array(varchar)",
    duck=_group_call("regexp_extract_all"),
)
define(
    "regexp_replace",
    "regexp_replace(varchar, varchar) -> varchar",
    "regexp_replace(varchar, varchar, varchar) -> varchar",
    "regexp_replace(varchar, varchar, function(array(varchar), varchar)) -> varchar",
    duck=_replace,
)
define("regexp_split", "regexp_split(varchar, varchar) -> array(varchar)", duck="string_split_regex")
define(
    "regexp_count",
    "regexp_count(varchar, varchar) -> bigint",
    duck=lambda a, c: fn("len", fn("regexp_extract_all", a[0], a[1])),
)
define(
    "regexp_position",
    "regexp_position(varchar, varchar) -> integer",
    "regexp_position(varchar, varchar, bigint) -> integer",
    "regexp_position(varchar, varchar, bigint, bigint) -> integer",
    duck=lambda a, c: fn(
        "trino_regexp_position", a[0], a[1], a[2] if len(a) > 2 else lit(1), a[3] if len(a) > 3 else lit(1)
    ),
)

macro("trino_regexp_extract", "s, p, g", "CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END")
macro(
    "trino_java_replacement",
    "r",
    "regexp_replace(replace(r, '\\', '\\\\'), '\\$(\\d+)', '\\\\\\1', 'g')",
)
macro(
    "trino_regexp_position",
    "s, p, start, occurrence",
    lambda fail: (
        f"CASE WHEN start < 1 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'start must be a positive integer' + chr(39))} "
        f"WHEN occurrence < 1 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'occurrence must be a positive integer' + chr(39))} "
        "WHEN len(regexp_extract_all(substring(s, start), p)) < occurrence THEN -1 "
        "ELSE CAST(start + list_sum(list_transform(range(1, occurrence + 1), "
        "lambda k: length(string_split_regex(substring(s, start), p)[k]))) "
        "+ coalesce(list_sum(list_transform(range(1, occurrence), "
        "lambda k: length(regexp_extract_all(substring(s, start), p)[k]))), 0) AS INTEGER) END"
    ),
)
