"""Analyzed Trino expressions -> DuckDB expressions.

The analyzer decided every type; translation follows it: literals get their Trino type explicitly
(``1`` is an INTEGER, so ``2147483647 + 1`` overflows as in Trino), operands and arguments are converted
where the analyzer coerced them (``casts.convert``), arithmetic picks the operator the types call for
(``//`` for integers, exact division for decimals), subscripts check their bounds, and each call becomes
its DuckDB form from the function library. Inside ``try(...)`` raising macros are replaced by their
NULL-returning variants (DuckDB's TRY rejects the volatile ``error()``).
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis.calls import call_arguments
from local_aws.athena.sql.analysis.context import CALL, COERCE, REF, TYPE
from local_aws.athena.sql.analysis.literals import split_zone
from local_aws.athena.sql.library import SCALAR, Call
from local_aws.athena.sql.library.decimals import decimal_divide_expression
from local_aws.athena.sql.library.duck import SAFE_SUFFIX, cast, fn, has_safe_variant, lit
from local_aws.athena.sql.library.zones import instant, local, require_zone
from local_aws.athena.sql.translate.casts import convert
from local_aws.athena.sql.translate.intervals import interval_literal
from local_aws.athena.sql.types import TrinoType

_WRAPPERS = (exp.Window, exp.Filter, exp.WithinGroup, exp.IgnoreNulls, exp.RespectNulls)
# Operators whose operands the generated SQL parenthesizes: precedence then never depends on how
# sqlglot prints a rebuilt tree (``a IS NULL IN (...)`` is not DuckDB SQL, ``(a IS NULL) IN (...)`` is).
_OPERATORS = (exp.Binary, exp.Predicate, exp.Not, exp.Neg, exp.Is, exp.In, exp.Between, exp.Like, exp.Escape)


def type_of(node: exp.Expression) -> TrinoType:
    return node.meta[TYPE]


class ExpressionTranslator:
    def __init__(self, qualify: bool = True) -> None:
        self.qualify = qualify
        self.safe = 0  # > 0 inside try() / TRY_CAST

    # ------------------------------------------------------------------ dispatch
    def tr(self, node: exp.Expression) -> exp.Expression:
        out = self._translate(node)
        target = node.meta.get(COERCE)
        if target is not None and TYPE in node.meta:
            out = convert(out, node.meta[TYPE], target, safe=self.safe > 0)
        if (
            isinstance(out, _OPERATORS)
            and isinstance(node.parent, _OPERATORS)
            and not isinstance(node.parent, exp.Escape)
        ):
            out = exp.Paren(this=out)
        return out

    def _translate(self, node: exp.Expression) -> exp.Expression:
        handler = getattr(self, f"_tr_{type(node).__name__.lower()}", None)
        if handler is not None:
            return handler(node)
        return self.rebuild(node)

    def rebuild(self, node: exp.Expression) -> exp.Expression:
        """The same node with translated children."""
        args = {}
        for key, value in node.args.items():
            if isinstance(value, exp.Expression):
                args[key] = self.tr(value)
            elif isinstance(value, list):
                args[key] = [self.tr(v) if isinstance(v, exp.Expression) else v for v in value]
            else:
                args[key] = value
        return type(node)(**args)

    # ------------------------------------------------------------------ names and literals
    def _tr_column(self, node: exp.Column) -> exp.Expression:
        ref = node.meta.get(REF)
        if ref is None:
            return node.copy()
        if ref.kind in ("lambda", "using") or not self.qualify:
            out: exp.Expression = exp.column(exp.to_identifier(ref.name, quoted=ref.kind != "lambda"))
        elif ref.kind == "output":
            out = exp.column(exp.to_identifier(ref.name, quoted=True))
        else:
            relation = ref.relation
            qualifier = relation.alias or (relation.qualified[-1] if relation.qualified else None)
            out = exp.column(
                exp.to_identifier(ref.name, quoted=True),
                table=exp.to_identifier(qualifier, quoted=True) if qualifier else None,
            )
        for name in ref.path:
            out = fn("struct_extract", out, lit(name))
        return out

    _tr_identifier = _tr_column

    def _tr_literal(self, node: exp.Literal) -> exp.Expression:
        t = node.meta.get(TYPE)
        if node.is_string or t is None:
            return node.copy()
        if t.is_decimal:
            return cast(lit(node.this), t)
        return cast(exp.Literal.number(node.this), t)

    def _tr_hexstring(self, node: exp.HexString) -> exp.Expression:
        return fn("unhex", lit(node.this))

    def _tr_interval(self, node: exp.Interval) -> exp.Expression:
        return interval_literal(node)

    def _tr_currenttimestamp(self, node: exp.Expression) -> exp.Expression:
        return fn("date_trunc", lit("millisecond"), fn("get_current_timestamp"))

    def _tr_localtimestamp(self, node: exp.Expression) -> exp.Expression:
        return cast(fn("date_trunc", lit("millisecond"), fn("get_current_timestamp")), "TIMESTAMP")

    # ------------------------------------------------------------------ casts
    def _tr_cast(self, node: exp.Cast) -> exp.Expression:
        target = type_of(node)
        if node.meta.get("type_literal"):
            return self._type_literal(node, target)
        safe = isinstance(node, exp.TryCast)
        self.safe += safe
        try:
            inner = self.tr(node.this)
            return convert(inner, type_of(node.this), target, safe=self.safe > 0)
        finally:
            self.safe -= safe

    _tr_trycast = _tr_cast

    def _type_literal(self, node: exp.Cast, t: TrinoType) -> exp.Expression:
        text = node.this.this
        if t.base == T.TZ:
            local_text, zone = split_zone(text)
            return instant(cast(lit(local_text), "TIMESTAMP"), zone or "UTC")
        if t.base == "json":
            return fn("json", lit(text))
        if t.base == "char":
            return lit(text)
        return cast(lit(text), t)

    # ------------------------------------------------------------------ operators
    def _arithmetic(self, node: exp.Expression) -> exp.Expression:
        t = type_of(node)
        left, right = self.tr(node.this), self.tr(node.expression)
        lt = node.this.meta.get(COERCE) or type_of(node.this)
        rt = node.expression.meta.get(COERCE) or type_of(node.expression)
        if self.safe and isinstance(node, (exp.Div, exp.Mod)) and t.is_exact:  # try(x / 0) is NULL
            zero = exp.EQ(this=right.copy(), expression=lit(0))
            exact = self._exact_division(node, t, left, lt, right, rt)
            return exp.Case(ifs=[exp.If(this=zero, true=exp.Null())], default=exact)
        return self._exact_division(node, t, left, lt, right, rt)

    def _exact_division(
        self,
        node: exp.Expression,
        t: TrinoType,
        left: exp.Expression,
        lt: TrinoType,
        right: exp.Expression,
        rt: TrinoType,
    ) -> exp.Expression:
        if t.is_decimal and isinstance(node, exp.Div):
            return decimal_divide_expression(left, lt, right, rt, t)
        if t.is_decimal:
            return cast(type(node)(this=left, expression=right), t)
        if t.is_integral and isinstance(node, exp.Div):
            return exp.IntDiv(this=left, expression=right)
        if isinstance(node, exp.Div) and t.base in ("double", "real"):
            return exp.Div(this=left, expression=right, typed=False, safe=False)
        if t.base == "date":
            return cast(type(node)(this=left, expression=right), T.DATE)
        if t.base == T.TZ and T.INTERVAL_YM in (lt.base, rt.base):
            zone = require_zone(t.zone, "interval arithmetic")
            zoned, interval = (left, right) if lt.base == T.TZ else (right, left)
            return instant(type(node)(this=local(zoned, zone), expression=interval), zone)
        return type(node)(this=left, expression=right)

    _tr_add = _tr_sub = _tr_mul = _tr_div = _tr_mod = _arithmetic

    def _tr_dpipe(self, node: exp.DPipe) -> exp.Expression:
        t = type_of(node)
        left, right = self.tr(node.this), self.tr(node.expression)
        if t.base != "array":
            return exp.DPipe(this=left, expression=right, safe=False)
        lt = node.this.meta.get(COERCE) or type_of(node.this)
        rt = node.expression.meta.get(COERCE) or type_of(node.expression)
        if lt.base == "array" and rt.base == "array":
            return fn("list_concat", left, right)
        if lt.base == "array":
            return fn("list_append", left, right)
        return fn("list_prepend", left, right)

    def _tr_bracket(self, node: exp.Bracket) -> exp.Expression:
        base = type_of(node.this)
        this, index = self.tr(node.this), self.tr(node.expressions[0])
        if base.base == "array":
            return self._macro("trino_subscript", this, index)
        if base.base == "map":
            return self._macro("trino_map_subscript", this, index)
        return fn("struct_extract_at", this, index)

    def _tr_dot(self, node: exp.Dot) -> exp.Expression:
        return fn("struct_extract", self.tr(node.this), lit(node.expression.name.lower()))

    def _tr_tuple(self, node: exp.Tuple) -> exp.Expression:
        if isinstance(node.parent, (exp.In, exp.Values)):
            return self.rebuild(node)
        return fn("row", *(self.tr(e) for e in node.expressions))

    def _tr_order(self, node: exp.Order) -> exp.Expression:
        """ORDER BY a constant has no effect in Trino; DuckDB rejects a non-integer one: drop it."""
        out = self.rebuild(node)
        kept = [o for o in out.expressions if not _is_constant(o.this)]
        if not kept:
            return None  # type: ignore[return-value]  # the parent's ORDER BY is simply absent
        out.set("expressions", kept)
        return out

    def _tr_values(self, node: exp.Values) -> exp.Expression:
        out = self.rebuild(node)
        rows = [r if isinstance(r, exp.Tuple) else exp.Tuple(expressions=[r]) for r in out.expressions]
        out.set("expressions", rows)
        return out

    def _comparison(self, node: exp.Expression) -> exp.Expression:
        """Comparisons; doubles follow IEEE 754 as Trino does (NaN equals nothing, orders nowhere), where
        DuckDB treats NaN as equal to itself and greater than every number."""
        out = self.rebuild(node)
        common = node.this.meta.get(COERCE) or type_of(node.this)
        if common.base not in ("double", "real") or isinstance(node, (exp.NullSafeEQ, exp.NullSafeNEQ)):
            return out
        sides = [
            n for n, original in ((out.this, node.this), (out.expression, node.expression)) if not _is_number(original)
        ]
        if not sides:
            return out
        nan = exp.or_(*(fn("isnan", side.copy()) for side in sides))
        if isinstance(node, exp.NEQ):
            return exp.Paren(this=exp.or_(out, nan))
        return exp.Paren(this=exp.and_(out, exp.Not(this=exp.Paren(this=nan))))

    _tr_eq = _tr_neq = _tr_lt = _tr_lte = _tr_gt = _tr_gte = _comparison

    def _macro(self, name: str, *args: exp.Expression) -> exp.Expression:
        return fn(name + (SAFE_SUFFIX if self.safe and has_safe_variant(name) else ""), *args)

    # ------------------------------------------------------------------ calls
    def _tr_anonymous(self, node: exp.Anonymous) -> exp.Expression:
        call: Call | None = node.meta.get(CALL)
        if call is None:  # row(...) constructor
            return fn("row", *(self.tr(a) for a in node.expressions))
        is_try = call.name == "try"
        self.safe += is_try
        try:
            args_nodes, distinct, order = call_arguments(node)
            args = [self._argument(a) for a in args_nodes]
            duck = call.function.duck
            out = fn(duck, *args) if isinstance(duck, str) else duck(args, call)
            if distinct or order is not None:
                out = self._aggregate_clauses(out, distinct, order)
            if self.safe:
                out = _safe_macros(out)
            if is_try:
                out = try_wrap(out.expressions[0])
            elif call.function.kind != SCALAR or not call.function.deterministic:
                out.meta[UNTRYABLE] = True  # DuckDB's TRY takes neither aggregates nor volatile functions
        finally:
            self.safe -= is_try
        if call.function.post is not None and not isinstance(node.parent, _WRAPPERS):
            out = call.function.post(out, call)
        return out

    def _argument(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Lambda):
            params = [exp.to_identifier(p.name.lower()) for p in node.expressions]
            return exp.Lambda(this=self.tr(node.this), expressions=params)
        return self.tr(node)

    def _aggregate_clauses(self, out: exp.Expression, distinct: bool, order: exp.Order | None) -> exp.Expression:
        """Carry DISTINCT and an ORDER BY inside the call over to the DuckDB aggregate call."""
        target = out if isinstance(out, exp.Anonymous) else next(out.find_all(exp.Anonymous))
        args = list(target.expressions)
        if order is not None and args:
            args[0] = exp.Order(this=args[0], expressions=[self.rebuild(o) for o in order.expressions])
        if distinct:
            args = [exp.Distinct(expressions=args)]
        target.set("expressions", args)
        return out

    def _wrapped(self, node: exp.Expression) -> exp.Expression:
        out = self.rebuild(node)
        if isinstance(node.parent, _WRAPPERS):
            return out
        inner = node
        while isinstance(inner, _WRAPPERS):
            inner = inner.this
        call = inner.meta.get(CALL)
        if call is not None and call.function.post is not None:
            out = call.function.post(out, call)
        return out

    _tr_filter = _tr_ignorenulls = _tr_respectnulls = _wrapped

    def _tr_window(self, node: exp.Window) -> exp.Expression:
        # DuckDB refuses volatile expressions (error()) in a window's PARTITION BY and ORDER BY; an
        # expression there that would fail also fails where the query computes it for its result.
        self.safe += 1
        try:
            parts = {k: self.tr(v) if isinstance(v, exp.Expression) else [self.tr(x) for x in v]
                     for k, v in node.args.items() if k in ("partition_by", "order") and v}  # fmt: skip
        finally:
            self.safe -= 1
        if "order" in parts:
            parts["order"] = _safe_macros(parts["order"])
        if "partition_by" in parts:
            parts["partition_by"] = [_safe_macros(p) for p in parts["partition_by"]]
        out = self._wrapped(node)
        for key, value in parts.items():
            out.set(key, value)
        return out

    def _tr_withingroup(self, node: exp.WithinGroup) -> exp.Expression:
        inner = self.tr(node.this)
        ordered = [self.rebuild(o) for o in node.expression.expressions]
        args = list(inner.expressions)
        args[-1] = exp.Order(this=args[-1], expressions=ordered)
        inner.set("expressions", args)
        return inner

    def _tr_lambda(self, node: exp.Lambda) -> exp.Expression:
        raise QueryFailed("SYNTAX_ERROR", "Lambda expression is only allowed as a function argument")


UNTRYABLE = "untryable"


_STRUCTURAL = (exp.If, exp.Ordered, exp.Order, exp.Lambda, exp.Identifier, exp.DataType, exp.Where, exp.Distinct)


def try_wrap(node: exp.Expression) -> exp.Expression:
    """``TRY(node)``, pushed below any aggregate, window or volatile call DuckDB's TRY refuses."""
    if not isinstance(node, _STRUCTURAL) and not any(
        n.meta.get(UNTRYABLE) or isinstance(n, exp.Window) for n in node.walk()
    ):
        return exp.Anonymous(this="TRY", expressions=[node])
    if node.meta.get(UNTRYABLE) or isinstance(node, exp.Window):
        return node
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, try_wrap(value))
        elif isinstance(value, list):
            node.set(key, [try_wrap(v) if isinstance(v, exp.Expression) else v for v in value])
    return node


def _is_constant(node: exp.Expression) -> bool:
    """A literal that is not an ordinal (NULL, a string, a cast literal)."""
    if isinstance(node, exp.Literal) and not node.is_string:
        return False
    return isinstance(node, (exp.Null, exp.Literal, exp.Boolean)) or (
        isinstance(node, exp.Cast) and isinstance(node.this, (exp.Literal, exp.Null))
    )


def _is_number(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and not node.is_string


def _safe_macros(node: exp.Expression) -> exp.Expression:
    for call in node.find_all(exp.Anonymous):
        name = call.name
        if has_safe_variant(name.lower()) and not name.endswith(SAFE_SUFFIX):
            call.set("this", name + SAFE_SUFFIX)
        elif name.lower() == "error":
            call.replace(exp.Null())
    return node
