"""Typing every expression as Trino does: literals, names, operators, CASE, IN, subscripts, casts, calls.

:class:`ExpressionAnalyzer` walks one expression in a :class:`~.scope.Scope`, stores each node's type in
its ``meta`` (``context.TYPE``), the coercions its operands need (``context.COERCE``), what a column
names (``REF``) and how a call resolved (``CALL``); it raises Athena's errors for what Trino rejects
before running (TYPE_MISMATCH, FUNCTION_NOT_FOUND, MISSING_OVER, COLUMN_NOT_FOUND, AMBIGUOUS_NAME).
Literals and calls are typed in ``literals`` and ``calls``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis import literals
from local_aws.athena.sql.analysis.calls import CallAnalyzer
from local_aws.athena.sql.analysis.context import REF, Context, coerce, set_type
from local_aws.athena.sql.analysis.operators import (
    SYMBOLS,
    arithmetic_types,
    check_cast,
    comparison_type,
    concat_types,
)
from local_aws.athena.sql.analysis.scope import Field, Scope, column_parts
from local_aws.athena.sql.coercion import super_type, super_type_of
from local_aws.athena.sql.types import TrinoType

SubqueryAnalyzer = Callable[[exp.Expression, Scope], list[Field]]
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_COMPARISON = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.NullSafeEQ, exp.NullSafeNEQ)
# What sqlglot may parse where Trino's grammar has no such expression (an alias or a star inside an
# expression, adjacent string literals, the JSON arrow outside a lambda): Trino's parser rejects these.
_NOT_EXPRESSIONS = (
    exp.Alias, exp.Aliases, exp.Star, exp.Schema, exp.Distinct, exp.Order, exp.Ordered, exp.Concat,
    exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar, exp.BitwiseAnd,
    exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseNot, exp.BitwiseLeftShift, exp.BitwiseRightShift, exp.ILike,
    exp.Xor, exp.RegexpLike, exp.Collate,
)  # fmt: skip


class ExpressionAnalyzer:
    def __init__(self, ctx: Context, subquery: SubqueryAnalyzer) -> None:
        self.ctx = ctx
        self.subquery = subquery
        self.calls = CallAnalyzer(ctx, self)

    def pos(self, node: exp.Expression) -> tuple[int, int] | None:
        return self.ctx.position(node)

    def type(self, node: exp.Expression, scope: Scope, in_window: bool = False) -> TrinoType:
        """Type ``node`` (and everything under it) in ``scope``."""
        return set_type(node, self._type(node, scope, in_window))

    def boolean(self, node: exp.Expression, scope: Scope, message: str) -> None:
        """Type a condition that must be boolean (``message`` gets the actual type)."""
        t = self.type(node, scope)
        if t.base not in ("boolean", "unknown"):
            raise QueryFailed("TYPE_MISMATCH", message.format(t), position=self.pos(node))
        coerce(node, T.BOOLEAN)

    def _type(self, node: exp.Expression, scope: Scope, in_window: bool) -> TrinoType:
        if isinstance(node, exp.Column):
            return self._column(node, scope)
        if isinstance(node, exp.Identifier):  # a lambda parameter inside a lambda body
            ref, t = scope.resolve([node.name.lower()], node, self.pos(node))
            node.meta[REF] = ref
            return t
        if isinstance(node, (exp.Literal, exp.Boolean, exp.Null, exp.HexString, exp.Interval)):
            return literals.literal_type(node, self.pos(node))
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return self._cast(node, scope)
        if isinstance(node, exp.Anonymous):
            return self.calls.call(node, scope, in_window)
        if isinstance(node, (exp.Window, exp.Filter, exp.WithinGroup, exp.IgnoreNulls, exp.RespectNulls)):
            return self.calls.wrapped(node, scope, in_window)
        if isinstance(node, exp.Paren):
            return self.type(node.this, scope)
        if isinstance(node, _ARITHMETIC):
            return self._arithmetic(node, scope)
        if isinstance(node, _COMPARISON):
            return self._comparison(node, scope)
        if isinstance(node, (exp.And, exp.Or)):
            for side in (node.this, node.expression):
                self.boolean(side, scope, "Logical expression term must evaluate to a boolean (actual: {})")
            return T.BOOLEAN
        if isinstance(node, exp.Not):
            self.boolean(node.this, scope, "Value of logical NOT expression must evaluate to a boolean (actual: {})")
            return T.BOOLEAN
        if isinstance(node, exp.Neg):
            t = self.type(node.this, scope)
            if not (t.is_numeric or t.is_unknown or t.base in (T.INTERVAL_DS, T.INTERVAL_YM)):
                raise QueryFailed("TYPE_MISMATCH", f"Cannot negate {t}", position=self.pos(node))
            return T.INTEGER if t.is_unknown else t
        if isinstance(node, exp.DPipe):
            result, left, right = concat_types(
                self.type(node.this, scope), self.type(node.expression, scope), self.pos(node)
            )
            coerce(node.this, left)
            coerce(node.expression, right)
            return result
        if isinstance(node, exp.Is):
            self.type(node.this, scope)
            return T.BOOLEAN
        if isinstance(node, (exp.Like, exp.Escape)):
            return self._like(node, scope)
        if isinstance(node, exp.Between):
            parts = [node.this, node.args["low"], node.args["high"]]
            self._common(parts, scope, lambda ts: f"Cannot check if {ts[0]} is BETWEEN {ts[1]} and {ts[2]}", node)
            return T.BOOLEAN
        if isinstance(node, exp.In):
            return self._in(node, scope)
        if isinstance(node, exp.Exists):
            self.subquery(node.this, scope)
            return T.BOOLEAN
        if isinstance(node, exp.Case):
            return self._case(node, scope)
        if isinstance(node, exp.Bracket):
            return self._subscript(node, scope)
        if isinstance(node, exp.Dot):
            return self._dereference(node, scope)
        if isinstance(node, exp.Array):
            element = self._common(node.expressions, scope, lambda ts: "All ARRAY elements must be the same type", node)
            return T.array(element)
        if isinstance(node, exp.Tuple):
            return T.row([(None, self.type(e, scope)) for e in node.expressions])
        if isinstance(node, (exp.Subquery, exp.Select, exp.SetOperation)):
            return self._scalar_subquery(node, scope)
        if isinstance(node, exp.CurrentDate):
            return T.DATE
        if isinstance(node, exp.CurrentTimestamp):
            return T.timestamp_tz(3, "UTC")
        if isinstance(node, exp.Localtimestamp):
            return T.timestamp(3)
        if isinstance(node, exp.Lambda):
            raise QueryFailed(
                "SYNTAX_ERROR", "Lambda expression is only allowed as a function argument", position=self.pos(node)
            )
        if isinstance(node, _NOT_EXPRESSIONS):
            shown = node.sql(dialect="trino")[:40]
            raise QueryFailed(
                "SYNTAX_ERROR", f"mismatched input '{shown}'. Expecting: <expression>", position=self.pos(node)
            )
        if isinstance(node, exp.Placeholder):
            raise QueryFailed(
                "INVALID_PARAMETER_USAGE", "Query has a parameter without a value", position=self.pos(node)
            )
        raise QueryFailed(
            "NOT_SUPPORTED",
            f"{type(node).__name__} expressions ({node.sql(dialect='trino')[:60]}) are not supported by the local "
            "Athena endpoint",
            position=self.pos(node),
        )

    # ------------------------------------------------------------------ names
    def _column(self, node: exp.Column, scope: Scope) -> TrinoType:
        if isinstance(node.this, exp.Star):
            raise QueryFailed("SYNTAX_ERROR", "'*' is not allowed here", position=self.pos(node))
        ref, t = scope.resolve(column_parts(node), node, self.pos(node))
        node.meta[REF] = ref
        return t

    def _dereference(self, node: exp.Dot, scope: Scope) -> TrinoType:
        base = self.type(node.this, scope)
        name = node.expression.name.lower()
        if base.base == "row":
            for field_name, ft in base.fields:
                if field_name == name:
                    return ft
        raise QueryFailed("COLUMN_NOT_FOUND", f"Column '{name}' cannot be resolved", position=self.pos(node.expression))

    def _subscript(self, node: exp.Bracket, scope: Scope) -> TrinoType:
        base = self.type(node.this, scope)
        index = node.expressions[0]
        it = self.type(index, scope)
        if base.base == "array":
            if not (it.is_integral or it.is_unknown):
                raise QueryFailed("TYPE_MISMATCH", f"Cannot use {it} as an array index", position=self.pos(index))
            coerce(index, T.BIGINT)
            return base.element
        if base.base == "map":
            key = super_type(base.key, it)
            if key is None or key != base.key:
                raise QueryFailed("TYPE_MISMATCH", f"Cannot use {it} as a key of {base}", position=self.pos(index))
            coerce(index, base.key)
            return base.value
        if base.base == "row" and isinstance(index, exp.Literal) and index.is_int:
            position = int(index.this)
            if not 1 <= position <= len(base.fields):
                raise QueryFailed(
                    "INVALID_FUNCTION_ARGUMENT", f"Invalid row field index: {position}", position=self.pos(index)
                )
            return base.fields[position - 1][1]
        raise QueryFailed("TYPE_MISMATCH", f"Cannot use '[]' on {base}", position=self.pos(node))

    # ------------------------------------------------------------------ operators
    def _arithmetic(self, node: exp.Expression, scope: Scope) -> TrinoType:
        a, b = self.type(node.this, scope), self.type(node.expression, scope)
        result, left, right = arithmetic_types(type(node), a, b, self.pos(node))
        coerce(node.this, left)
        coerce(node.expression, right)
        return result

    def _comparison(self, node: exp.Expression, scope: Scope) -> TrinoType:
        a, b = self.type(node.this, scope), self.type(node.expression, scope)
        common = comparison_type(type(node), a, b, self.pos(node))
        coerce(node.this, common)
        coerce(node.expression, common)
        return T.BOOLEAN

    def _like(self, node: exp.Expression, scope: Scope) -> TrinoType:
        like = node.this if isinstance(node, exp.Escape) else node
        parts = [like.this, like.expression] + ([node.expression] if isinstance(node, exp.Escape) else [])
        for part in parts:
            t = self.type(part, scope)
            if not (t.is_string or t.is_unknown):
                raise QueryFailed("TYPE_MISMATCH", f"Cannot apply operator: {t} LIKE varchar", position=self.pos(node))
            coerce(part, T.VARCHAR)
        return T.BOOLEAN

    def _common(
        self, nodes: list[exp.Expression], scope: Scope, message: Callable[[list[TrinoType]], str], at: exp.Expression
    ) -> TrinoType:
        types = [self.type(n, scope) for n in nodes]
        common = super_type_of(types)
        if common is None:
            raise QueryFailed("TYPE_MISMATCH", message(types), position=self.pos(at))
        for n in nodes:
            coerce(n, common)
        return common

    def _in(self, node: exp.In, scope: Scope) -> TrinoType:
        query = node.args.get("query")
        if query is not None:
            value = self.type(node.this, scope)
            fields = self.subquery(query, scope)
            if len(fields) != 1:
                raise QueryFailed(
                    "NOT_SUPPORTED", f"Multiple columns returned by subquery are not yet supported. Found {len(fields)}"
                )
            common = super_type(value, fields[0].type)
            if common is None:
                raise QueryFailed(
                    "TYPE_MISMATCH",
                    f"Value expression and result of subquery must be of the same type: {value} vs {fields[0].type}",
                    position=self.pos(node),
                )
            coerce(node.this, common)
            query.meta["coerce_column"] = common
            return T.BOOLEAN

        def message(types: list[TrinoType]) -> str:
            distinct = list(dict.fromkeys(t.display() for t in types))
            return (
                "IN value and list items must be the same type or coercible to a common type. Cannot find common "
                f"type between {types[0]} and {next((t for t in distinct[1:]), types[0])}, all types (without "
                f"duplicates): [{', '.join(distinct)}]"
            )

        self._common([node.this, *node.expressions], scope, message, node)
        return T.BOOLEAN

    def _case(self, node: exp.Case, scope: Scope) -> TrinoType:
        whens = node.args.get("ifs") or []
        operand = node.this
        if operand is not None:
            self._common(
                [operand, *(w.this for w in whens)],
                scope,
                lambda ts: "CASE operand type does not match WHEN clause operand type",
                node,
            )
        else:
            for when in whens:
                self.boolean(when.this, scope, "WHEN clause must evaluate to a boolean: actual type {}")
        results = [w.args["true"] for w in whens]
        if node.args.get("default") is not None:
            results.append(node.args["default"])

        def message(types: list[TrinoType]) -> str:
            distinct = list(dict.fromkeys(t.display() for t in types))
            return (
                "All CASE results must be the same type or coercible to a common type. Cannot find common type "
                f"between {distinct[0]} and {distinct[-1]}, all types (without duplicates): [{', '.join(distinct)}]"
            )

        return self._common(results, scope, message, node)

    # ------------------------------------------------------------------ casts and subqueries
    def _cast(self, node: exp.Cast, scope: Scope) -> TrinoType:
        if node.meta.get("type_literal"):
            return literals.type_literal(node, self.pos(node))
        try:
            target = T.from_datatype(node.to)
        except T.UnknownType as err:
            raise QueryFailed("TYPE_NOT_FOUND", f"Unknown type: {err}", position=self.pos(node.to)) from err
        source = self.type(node.this, scope)
        check_cast(source, target, self.pos(node))
        if target.base == T.TZ:
            return target.with_zone(literals.cast_zone(node.this, source))
        return target

    def _scalar_subquery(self, node: exp.Expression, scope: Scope) -> TrinoType:
        fields = self.subquery(node, scope)
        if len(fields) != 1:
            raise QueryFailed(
                "NOT_SUPPORTED",
                f"Multiple columns returned by subquery are not yet supported. Found {len(fields)}",
                position=self.pos(node),
            )
        return fields[0].type


__all__ = ["SYMBOLS", "ExpressionAnalyzer"]
