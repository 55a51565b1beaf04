"""The clause rules of aggregation: what may appear where once a query groups or aggregates.

WHERE, GROUP BY and JOIN ... ON hold no aggregate or window function (EXPRESSION_NOT_SCALAR); an
aggregate's arguments hold no other aggregate (NESTED_AGGREGATION); in a grouped query every column
outside an aggregate must be a grouping expression (EXPRESSION_NOT_AGGREGATE). Expressions are compared
by what their columns resolved to, so ``t.symbol`` and ``symbol`` are the same grouping key.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.analysis.context import CALL, REF, Context
from local_aws.athena.sql.library import AGGREGATE

_QUERIES = (exp.Subquery, exp.Select, exp.SetOperation, exp.Exists)
_WRAPPERS = (exp.Filter, exp.WithinGroup, exp.IgnoreNulls, exp.RespectNulls)


def _walk(node: exp.Expression) -> Iterator[exp.Expression]:
    """Pre-order, not entering subqueries."""
    yield node
    for child in node.iter_expressions():
        if isinstance(child, _QUERIES):
            continue
        yield from _walk(child)


def is_aggregate_call(node: exp.Expression) -> bool:
    call = node.meta.get(CALL) if isinstance(node, exp.Anonymous) else None
    return call is not None and call.function.kind == AGGREGATE and not isinstance(_outer(node), exp.Window)


def _outer(node: exp.Expression) -> exp.Expression:
    while isinstance(node.parent, (_WRAPPERS, exp.Window)):
        node = node.parent
        if isinstance(node, exp.Window):
            return node
    return node


def aggregates_in(node: exp.Expression) -> list[exp.Expression]:
    return [n for n in _walk(node) if is_aggregate_call(n)]


def windows_in(node: exp.Expression) -> list[exp.Expression]:
    return [n for n in _walk(node) if isinstance(n, exp.Window)]


def require_scalar(node: exp.Expression, clause: str, ctx: Context) -> None:
    found = aggregates_in(node) + windows_in(node)
    if found:
        shown = ", ".join(f.sql(dialect="trino", normalize_functions="lower") for f in found)
        raise QueryFailed(
            "EXPRESSION_NOT_SCALAR",
            f"{clause} clause cannot contain aggregations, window functions or grouping operations: [{shown}]",
            position=ctx.position(found[0]),
        )


def check_nesting(node: exp.Expression, ctx: Context) -> None:
    for call in aggregates_in(node):
        for arg in call.expressions:
            inner = aggregates_in(arg)
            if inner:
                raise QueryFailed(
                    "NESTED_AGGREGATION",
                    f"Cannot nest aggregations inside aggregation '{call.name.lower()}': "
                    f"[{', '.join(i.sql(dialect='trino', normalize_functions='lower') for i in inner)}]",
                    position=ctx.position(call),
                )
            if windows_in(arg):
                raise QueryFailed(
                    "NESTED_WINDOW",
                    f"Cannot nest window functions inside aggregation '{call.name.lower()}'",
                    position=ctx.position(call),
                )


def canonical(node: exp.Expression) -> str:
    """A key equal for expressions Trino treats as the same grouping expression."""
    if isinstance(node, exp.Column):
        ref = node.meta.get(REF)
        if ref is not None:
            return f"col({id(ref.relation)}:{ref.kind}:{ref.name}:{'.'.join(ref.path)})"
    if isinstance(node, exp.Paren):
        return canonical(node.this)
    parts = [type(node).__name__]
    for key, value in sorted(node.args.items()):
        if isinstance(value, exp.Expression):
            parts.append(f"{key}={canonical(value)}")
        elif isinstance(value, list):
            parts.append(
                f"{key}=[{','.join(canonical(v) if isinstance(v, exp.Expression) else str(v) for v in value)}]"
            )
        elif value is not None:
            parts.append(f"{key}={str(value).lower()}")
    return "(" + " ".join(parts) + ")"


def check_grouped(node: exp.Expression, keys: set[str], ctx: Context) -> None:
    """Raise EXPRESSION_NOT_AGGREGATE for a column of ``node`` outside aggregates and grouping keys."""
    if canonical(node) in keys or is_aggregate_call(node):
        return
    if isinstance(node, _WRAPPERS) and is_aggregate_call(_innermost(node)):
        return
    if isinstance(node, _QUERIES):
        return
    if isinstance(node, exp.Column):
        ref = node.meta.get(REF)
        if ref is None or ref.depth > 0 or ref.kind in ("lambda", "output"):
            return
        raise QueryFailed(
            "EXPRESSION_NOT_AGGREGATE",
            f"'{node.sql(dialect='trino', normalize_functions='lower')}' must be an aggregate expression or appear in GROUP BY clause",
            position=ctx.position(node),
        )
    for child in node.iter_expressions():
        check_grouped(child, keys, ctx)


def _innermost(node: exp.Expression) -> exp.Expression:
    while isinstance(node, _WRAPPERS):
        node = node.this
    return node
