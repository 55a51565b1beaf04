"""Decimal arithmetic with Trino's result types (trino.io/docs/current/functions/decimal.html).

DuckDB adds, subtracts, multiplies and takes remainders of decimals exactly; the result is cast to the
type Trino derives (``coercion.arithmetic``). Decimal division is different: DuckDB divides decimals as
doubles, Trino rounds the exact quotient HALF_UP to the result scale. Here both operands become their
unscaled 128-bit integers, the dividend is scaled so the integer quotient has the result's scale, and
``trino_div_half_up`` rounds the remainder away from zero at one half.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.duck import cast, fn, lit, macro
from local_aws.athena.sql.types import TrinoType


def _pow10(n: int) -> exp.Expression:
    return cast(lit(str(10**n)), "HUGEINT")


def unscaled(node: exp.Expression, t: TrinoType) -> exp.Expression:
    """The unscaled 128-bit integer of an exact number (123.45 as decimal(5,2) -> 12345)."""
    if not t.is_decimal or t.scale == 0:
        return cast(node, "HUGEINT")
    scaled = exp.Mul(this=cast(node, T.decimal(38, t.scale)), expression=_pow10(t.scale))
    return cast(scaled, "HUGEINT")


def decimal_divide_expression(
    a: exp.Expression, at: TrinoType, b: exp.Expression, bt: TrinoType, result: TrinoType
) -> exp.Expression:
    """``a / b`` rounded HALF_UP to ``result``'s scale, exactly."""
    a_scale = at.scale if at.is_decimal else 0
    b_scale = bt.scale if bt.is_decimal else 0
    k = result.scale - a_scale + b_scale
    numerator = unscaled(a, at)
    if k > 0:
        numerator = exp.Mul(this=numerator, expression=_pow10(k))
    quotient = fn("trino_div_half_up", numerator, unscaled(b, bt))
    if result.scale == 0:
        return cast(quotient, result)
    unit = cast(lit("0." + "0" * (result.scale - 1) + "1"), T.decimal(result.scale + 1, result.scale))
    return cast(exp.Mul(this=cast(quotient, T.decimal(38, 0)), expression=unit), result)


macro(
    "trino_div_half_up",
    "n, d",
    lambda fail: (
        f"CASE WHEN d = 0 THEN {fail('DIVISION_BY_ZERO', chr(39) + 'Division by zero' + chr(39))} "
        "ELSE n // d + CASE WHEN 2 * abs(n % d) >= abs(d) THEN (CASE WHEN (n < 0) = (d < 0) THEN 1 ELSE -1 END) "
        "ELSE 0 END END"
    ),
)
