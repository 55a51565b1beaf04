"""Typing function calls: resolving a name and its argument types against the function library, lambdas
included, and the clauses around aggregate and window calls (DISTINCT, ORDER BY, FILTER, OVER).

An unknown name is FUNCTION_NOT_FOUND (``Function 'x' not registered``), a known name with no matching
signature FUNCTION_NOT_FOUND with ``Unexpected parameters (...)``, a Trino function this endpoint lacks
NOT_SUPPORTED, a window function without OVER MISSING_OVER. COALESCE, IF and NULLIF are syntax in
Trino, so their operand mismatches are TYPE_MISMATCH.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from local_aws.athena.errors import QueryFailed, not_supported
from local_aws.athena.sql import library
from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis.context import CALL, Context, coerce, set_type
from local_aws.athena.sql.analysis.scope import Scope
from local_aws.athena.sql.library import AGGREGATE, WINDOW, Call
from local_aws.athena.sql.types import TrinoType

if TYPE_CHECKING:
    from local_aws.athena.sql.analysis.expressions import ExpressionAnalyzer

_SYNTAX_FUNCTIONS = {"coalesce": "COALESCE", "if": "IF", "nullif": "NULLIF"}


def call_arguments(node: exp.Anonymous) -> tuple[list[exp.Expression], bool, exp.Order | None]:
    """(the argument expressions, DISTINCT?, the ORDER BY inside the call) of a call node."""
    args = list(node.expressions)
    distinct = False
    order = None
    if len(args) == 1 and isinstance(args[0], exp.Distinct):
        distinct = True
        args = list(args[0].expressions)
    if args and isinstance(args[0], exp.Order):
        order = args[0]
        args = [order.this, *args[1:]] if order.this is not None else args[1:]
    elif args and isinstance(args[-1], exp.Order):
        order = args[-1]
        args = [*args[:-1], order.this] if order.this is not None else args[:-1]
    if len(args) == 1 and isinstance(args[0], exp.Star):
        args = []
    return args, distinct, order


class CallAnalyzer:
    def __init__(self, ctx: Context, expressions: ExpressionAnalyzer) -> None:
        self.ctx = ctx
        self.expressions = expressions

    def call(self, node: exp.Anonymous, scope: Scope, in_window: bool) -> TrinoType:
        name = node.name.lower()
        position = self.ctx.position(node)
        if name == "row":
            return T.row([(None, self.expressions.type(a, scope)) for a in node.expressions])
        try:
            function = library.lookup(name)
        except library.NotRegistered:
            if library.is_trino_function(name):
                raise not_supported(f"Function '{name}'", position) from None
            raise QueryFailed("FUNCTION_NOT_FOUND", f"Function '{name}' not registered", position=position) from None
        args, distinct, order = call_arguments(node)
        if (distinct or order is not None) and function.kind == library.SCALAR:
            raise QueryFailed(
                "FUNCTION_NOT_FOUND",
                f"DISTINCT or ORDER BY used with the non-aggregate function {name}",
                position=position,
            )
        if order is not None:
            for ordered in order.expressions:
                self.expressions.type(ordered.this, scope)
        arg_types: list[TrinoType | None] = [
            None if isinstance(a, exp.Lambda) else self.expressions.type(a, scope) for a in args
        ]

        def type_lambda(index: int, params: list[TrinoType]) -> TrinoType:
            return self._lambda(args[index], params, scope)

        try:
            resolved = library.resolve(function, arg_types, type_lambda)
        except library.ResolveError as err:
            if name in _SYNTAX_FUNCTIONS:
                shown = ", ".join(t.display() for t in arg_types if t is not None)
                raise QueryFailed(
                    "TYPE_MISMATCH",
                    f"All {_SYNTAX_FUNCTIONS[name]} operands must be the same type: {shown}",
                    position=position,
                ) from err
            raise QueryFailed("FUNCTION_NOT_FOUND", str(err), position=position) from err
        for arg, target in zip(args, resolved.targets, strict=True):
            if isinstance(arg, exp.Lambda):
                self._lambda(arg, list(target.args[1:]), scope)
            else:
                coerce(arg, target)
        returns = resolved.returns
        if returns.base == T.TZ:
            returns = returns.with_zone(function.zone(args, resolved.targets))
        node.meta[CALL] = Call(name, function, resolved.targets, returns, node, resolved.bindings)
        if function.kind == WINDOW and not in_window:
            raise QueryFailed("MISSING_OVER", f"Window function {name} requires an OVER clause", position=position)
        return returns

    def _lambda(self, node: exp.Expression, params: list[TrinoType], scope: Scope) -> TrinoType:
        if not isinstance(node, exp.Lambda):
            raise library.ResolveError("expected a lambda expression")
        names = [p.name.lower() for p in node.expressions]
        if len(names) != len(params):
            raise library.ResolveError(f"lambda takes {len(params)} arguments, got {len(names)}")
        inner = scope.with_lambdas(dict(zip(names, params, strict=True)))
        body = self.expressions.type(node.this, inner)
        set_type(node, T.function(body, *params))
        return body

    def wrapped(self, node: exp.Expression, scope: Scope, in_window: bool = False) -> TrinoType:
        """An aggregate or window call inside FILTER, WITHIN GROUP, IGNORE NULLS or OVER."""
        if isinstance(node, exp.Window):
            for part in node.args.get("partition_by") or []:
                self.expressions.type(part, scope)
            order = node.args.get("order")
            for ordered in order.expressions if order is not None else []:
                self.expressions.type(ordered.this, scope)
            inner = node.this
            t = self._inner(inner, scope, in_window=True)
            call = _innermost(inner).meta.get(CALL)
            if call is None or call.function.kind not in (AGGREGATE, WINDOW):
                name = _innermost(inner).name if isinstance(_innermost(inner), exp.Anonymous) else "expression"
                raise QueryFailed(
                    "FUNCTION_NOT_WINDOW", f"Not a window function: {name}", position=self.ctx.position(node)
                )
            return t
        if isinstance(node, exp.Filter):
            t = self._inner(node.this, scope, in_window=False)
            self.expressions.boolean(
                node.expression.this, scope, "Filter expression must evaluate to a boolean: actual type {}"
            )
            self._require_aggregate(node.this, "FILTER")
            return t
        if isinstance(node, exp.WithinGroup):
            order = node.expression
            for ordered in order.expressions if order is not None else []:
                self.expressions.type(ordered.this, scope)
            t = self._inner(node.this, scope, in_window=False)
            self._require_aggregate(node.this, "WITHIN GROUP")
            return t
        return self._inner(node.this, scope, in_window=in_window)

    def _inner(self, node: exp.Expression, scope: Scope, in_window: bool) -> TrinoType:
        if isinstance(node, exp.Anonymous):
            return set_type(node, self.call(node, scope, in_window))
        return self.expressions.type(node, scope, in_window=in_window)

    def _require_aggregate(self, node: exp.Expression, clause: str) -> None:
        call = _innermost(node).meta.get(CALL)
        if call is None or call.function.kind != AGGREGATE:
            raise QueryFailed(
                "FUNCTION_NOT_AGGREGATE",
                f"{clause} is only allowed for aggregate functions",
                position=self.ctx.position(node),
            )


def _innermost(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Window, exp.Filter, exp.WithinGroup, exp.IgnoreNulls, exp.RespectNulls)):
        node = node.this
    return node
