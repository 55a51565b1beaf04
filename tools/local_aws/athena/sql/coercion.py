"""Trino's implicit coercions: which type may stand where another is expected, the common super type of
two types, and the result types of arithmetic (the decimal precision and scale rules).

Sources: Trino's ``TypeCoercion`` (integer widens to bigint, real, double and decimal(10,0); a decimal to
real and double; varchar(n) to a longer varchar; date to timestamp; unknown to anything; containers
element-wise) and the decimal operators' documented result types (functions/decimal.html).
"""

from __future__ import annotations

from local_aws.athena.sql import types as T
from local_aws.athena.sql.types import TrinoType

_NUMERIC_ORDER = {"tinyint": 0, "smallint": 1, "integer": 2, "bigint": 3, "decimal": 4, "real": 5, "double": 6}


def _decimal_super(a: TrinoType, b: TrinoType) -> TrinoType:
    a, b = T.decimal_of(a), T.decimal_of(b)
    scale = max(a.scale, b.scale)
    integer_digits = max(a.precision - a.scale, b.precision - b.scale)
    return T.decimal(min(T.MAX_DECIMAL, integer_digits + scale), scale)


def _numeric_super(a: TrinoType, b: TrinoType) -> TrinoType:
    if a.is_integral and b.is_integral:
        return a if _NUMERIC_ORDER[a.base] >= _NUMERIC_ORDER[b.base] else b
    if a.is_exact and b.is_exact:
        return _decimal_super(a, b)
    top = max(_NUMERIC_ORDER[a.base], _NUMERIC_ORDER[b.base])
    return T.DOUBLE if top == _NUMERIC_ORDER["double"] else T.REAL


def _zone(a: TrinoType, b: TrinoType) -> str | None:
    return a.zone if a.zone == b.zone else None


def super_type(a: TrinoType, b: TrinoType) -> TrinoType | None:
    """The common super type Trino coerces both operands to, or None when there is none."""
    if a == b:
        return a if a.zone == b.zone else a.with_zone(None)
    if a.is_unknown:
        return b
    if b.is_unknown:
        return a
    if a.is_numeric and b.is_numeric:
        return _numeric_super(a, b)
    if a.base == b.base == "varchar":
        if not a.args or not b.args:
            return T.VARCHAR
        return T.varchar(max(a.precision, b.precision))
    if a.base == b.base == "char":
        return T.char(max(a.precision, b.precision))
    if {a.base, b.base} == {"varchar", "char"}:
        return T.VARCHAR
    if a.base in ("timestamp", T.TZ, "date") and b.base in ("timestamp", T.TZ, "date"):
        precision = max(a.precision if a.base != "date" else 0, b.precision if b.base != "date" else 0)
        if T.TZ in (a.base, b.base):
            zone = a.zone if b.base != T.TZ else b.zone if a.base != T.TZ else _zone(a, b)
            return T.timestamp_tz(precision, zone)
        return T.timestamp(precision)
    if a.base == b.base == "time":
        return T.time(max(a.precision, b.precision))
    if a.base == b.base == "array":
        element = super_type(a.element, b.element)
        return T.array(element) if element is not None else None
    if a.base == b.base == "map":
        key, value = super_type(a.key, b.key), super_type(a.value, b.value)
        return T.map_of(key, value) if key is not None and value is not None else None
    if a.base == b.base == "row" and len(a.fields) == len(b.fields):
        fields = []
        for (na, ta), (nb, tb) in zip(a.fields, b.fields, strict=True):
            ft = super_type(ta, tb)
            if ft is None:
                return None
            fields.append((na if na == nb else na or nb, ft))
        return T.row(fields)
    return None


def super_type_of(types: list[TrinoType]) -> TrinoType | None:
    """The common super type of several types (UNKNOWN for none)."""
    result = T.UNKNOWN
    for t in types:
        found = super_type(result, t)
        if found is None:
            return None
        result = found
    return result


def can_coerce(source: TrinoType, target: TrinoType) -> bool:
    """May a value of ``source`` stand where ``target`` is expected (implicitly)?"""
    if source == target or source.is_unknown:
        return True
    if target.is_decimal and source.is_exact:
        wide = T.decimal_of(source)
        return wide.precision - wide.scale <= target.precision - target.scale and wide.scale <= target.scale
    if target.base == "varchar" and source.base == "varchar":
        return not target.args or (bool(source.args) and source.precision <= target.precision)
    if target.base == "varchar" and source.base == "char":
        return False
    found = super_type(source, target)
    return found is not None and found == target


# ---------------------------------------------------------------------- arithmetic


def decimal_add(a: TrinoType, b: TrinoType) -> TrinoType:
    a, b = T.decimal_of(a), T.decimal_of(b)
    scale = max(a.scale, b.scale)
    precision = 1 + scale + max(a.precision - a.scale, b.precision - b.scale)
    return T.decimal(min(T.MAX_DECIMAL, precision), scale)


def decimal_multiply(a: TrinoType, b: TrinoType) -> TrinoType:
    a, b = T.decimal_of(a), T.decimal_of(b)
    return T.decimal(min(T.MAX_DECIMAL, a.precision + b.precision), a.scale + b.scale)


def decimal_divide(a: TrinoType, b: TrinoType) -> TrinoType:
    a, b = T.decimal_of(a), T.decimal_of(b)
    precision = a.precision + b.scale + max(b.scale - a.scale, 0)
    return T.decimal(min(T.MAX_DECIMAL, precision), max(a.scale, b.scale))


def decimal_modulus(a: TrinoType, b: TrinoType) -> TrinoType:
    a, b = T.decimal_of(a), T.decimal_of(b)
    scale = max(a.scale, b.scale)
    return T.decimal(min(T.MAX_DECIMAL, min(a.precision - a.scale, b.precision - b.scale) + scale), scale)


def arithmetic(op: str, a: TrinoType, b: TrinoType) -> TrinoType | None:
    """The result type of ``a op b`` for numbers (op one of + - * / %), or None when not numeric."""
    if not (a.is_numeric or a.is_unknown) or not (b.is_numeric or b.is_unknown):
        return None
    if a.is_unknown and b.is_unknown:
        return T.INTEGER
    a = b if a.is_unknown else a
    b = a if b.is_unknown else b
    if (a.is_decimal or b.is_decimal) and a.is_exact and b.is_exact:
        rule = {"+": decimal_add, "-": decimal_add, "*": decimal_multiply, "/": decimal_divide, "%": decimal_modulus}
        return rule[op](a, b)
    return super_type(a, b)
