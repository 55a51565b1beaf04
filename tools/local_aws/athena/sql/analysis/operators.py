"""Types of operators and casts: what ``a + b``, ``a = b``, ``a || b`` and ``CAST(x AS t)`` yield in
Trino, which operand coercions they imply, and the TYPE_MISMATCH Trino reports when they are not
defined (``Cannot apply operator: varchar = integer``, ``Cannot cast integer to date``).
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.coercion import arithmetic, super_type
from local_aws.athena.sql.types import TrinoType

SYMBOLS = {
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%", exp.EQ: "=", exp.NEQ: "<>",
    exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">=", exp.NullSafeEQ: "IS NOT DISTINCT FROM",
    exp.NullSafeNEQ: "IS DISTINCT FROM", exp.DPipe: "||",
}  # fmt: skip
ORDERING = (exp.LT, exp.LTE, exp.GT, exp.GTE)
Position = tuple[int, int] | None


def mismatch(op: str, a: TrinoType, b: TrinoType, position: Position) -> QueryFailed:
    return QueryFailed("TYPE_MISMATCH", f"Cannot apply operator: {a} {op} {b}", position=position)


def arithmetic_types(
    kind: type[exp.Expression], a: TrinoType, b: TrinoType, position: Position
) -> tuple[TrinoType, TrinoType, TrinoType]:
    """(result, left target, right target) of an arithmetic operator."""
    op = SYMBOLS[kind]
    numeric = arithmetic(op, a, b)
    if numeric is not None:
        if numeric.is_decimal:
            left = T.decimal_of(a) if not a.is_unknown else T.decimal_of(b if not b.is_unknown else T.INTEGER)
            right = T.decimal_of(b) if not b.is_unknown else left
            return numeric, left, right
        return numeric, numeric, numeric
    temporal = _temporal_arithmetic(op, a, b)
    if temporal is not None:
        return temporal
    raise mismatch(op, a, b, position)


_INTERVALS = (T.INTERVAL_DS, T.INTERVAL_YM)


def _temporal_arithmetic(op: str, a: TrinoType, b: TrinoType) -> tuple[TrinoType, TrinoType, TrinoType] | None:
    if op in "+-" and a.base in ("date", "timestamp", T.TZ, "time") and b.base in _INTERVALS:
        if a.base == "time" and b.base != T.INTERVAL_DS:
            return None
        return a, a, b
    if op == "+" and a.base in _INTERVALS and b.base in ("date", "timestamp", T.TZ, "time"):
        return b, a, b
    if op in "+-" and a.base == b.base and a.base in _INTERVALS:
        return a, a, b
    if op == "-" and a.base in ("timestamp", T.TZ) and b.base in ("timestamp", T.TZ, "date"):
        common = super_type(a, b)
        return (T.INTERVAL_DAY_SECOND, common, common) if common is not None else None
    if op in "*/" and a.base in _INTERVALS and b.is_numeric:
        return a, a, T.DOUBLE
    if op == "*" and a.is_numeric and b.base in _INTERVALS:
        return b, T.DOUBLE, b
    return None


def comparison_type(kind: type[exp.Expression], a: TrinoType, b: TrinoType, position: Position) -> TrinoType:
    """The type both operands of a comparison are coerced to."""
    common = super_type(a, b)
    op = SYMBOLS.get(kind, "=")
    if common is None or common.base in ("json", "function"):
        raise mismatch(op, a, b, position)
    if kind in ORDERING and common.base == "map":
        raise mismatch(op, a, b, position)
    return common


def concat_types(a: TrinoType, b: TrinoType, position: Position) -> tuple[TrinoType, TrinoType, TrinoType]:
    """(result, left target, right target) of ``a || b``."""
    if (a.is_string and b.is_string) or (a.is_unknown and b.is_string) or (b.is_unknown and a.is_string):
        return T.VARCHAR, T.VARCHAR, T.VARCHAR
    if a.base == "varbinary" and b.base == "varbinary":
        return a, a, b
    if a.base == "array" and b.base == "array":
        common = super_type(a, b)
        if common is not None:
            return common, common, common
    if a.base == "array":
        element = super_type(a.element, b)
        if element is not None:
            return T.array(element), T.array(element), element
    if b.base == "array":
        element = super_type(a, b.element)
        if element is not None:
            return T.array(element), element, T.array(element)
    raise mismatch("||", a, b, position)


_SCALARS_TO_VARCHAR = {
    "boolean", "tinyint", "smallint", "integer", "bigint", "real", "double", "decimal", "varchar", "char",
    "date", "time", "timestamp", T.TZ, "json", "uuid", T.INTERVAL_DS, T.INTERVAL_YM, "varbinary",
}  # fmt: skip
_JSON_TARGETS = {"boolean", "tinyint", "smallint", "integer", "bigint", "real", "double", "decimal", "varchar"}


def can_cast(source: TrinoType, target: TrinoType) -> bool:
    """Is ``CAST(source AS target)`` defined in Trino?"""
    s, t = source.base, target.base
    if source == target or s == "unknown":
        return True
    if source.is_numeric or s == "boolean":
        return target.is_numeric or t in ("boolean", "varchar", "char", "json")
    if t in ("varchar", "char"):
        return s in _SCALARS_TO_VARCHAR or s == "json"
    if source.is_string:
        return t in ("boolean", "date", "time", "timestamp", T.TZ, "json", "uuid", "varbinary") or target.is_numeric
    if s in ("date", "timestamp", T.TZ):
        return t in ("date", "timestamp", T.TZ, "time", "json")
    if s == "time":
        return t in ("time", "timestamp")
    if s == "json":
        return t in _JSON_TARGETS or t in ("array", "map", "row", "json")
    if t == "json":
        return s in ("array", "map", "row") and all(can_cast(c, T.JSON) for c in source.children())
    if s == t == "array":
        return can_cast(source.element, target.element)
    if s == t == "map":
        return can_cast(source.key, target.key) and can_cast(source.value, target.value)
    if s == t == "row":
        return len(source.fields) == len(target.fields) and all(
            can_cast(a, b) for (_, a), (_, b) in zip(source.fields, target.fields, strict=True)
        )
    if s == "varbinary":
        return t in ("uuid",)
    if s == "uuid":
        return t in ("varbinary",)
    return False


def check_cast(source: TrinoType, target: TrinoType, position: Position) -> None:
    if not can_cast(source, target):
        raise QueryFailed("TYPE_MISMATCH", f"Cannot cast {source} to {target}", position=position)
