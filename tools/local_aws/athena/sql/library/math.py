"""Mathematical functions (trino.io/docs/current/functions/math.html) and bitwise functions.

Result types follow Trino's signatures: ``abs``/``sign``/``round``/``ceil`` keep an integer's type,
a decimal's are computed from its precision and scale (MathFunctions), ``truncate`` and the
transcendental functions return double.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.coercion import decimal_modulus
from local_aws.athena.sql.library.duck import case, cast, fn, lit, macro
from local_aws.athena.sql.library.registry import Call, define, signature
from local_aws.athena.sql.types import TrinoType

NUMERIC = {"T": "numeric"}


def _rounded_decimal(t: TrinoType) -> TrinoType:
    return T.decimal(max(1, t.precision - t.scale + min(1, t.scale)), 0)


def _round_type(targets: list[TrinoType], _vars: dict[str, TrinoType]) -> TrinoType:
    t = targets[0]
    if t.is_decimal:
        return _rounded_decimal(t) if len(targets) == 1 else T.decimal(min(T.MAX_DECIMAL, t.precision + 1), t.scale)
    return t


def _round(args: list[exp.Expression], call: Call) -> exp.Expression:
    t = call.arg_types[0]
    if t.is_integral and len(args) == 1:
        return args[0]
    if t.is_integral:
        return cast(fn("round", args[0], args[1]), call.returns)
    return cast(fn("round", *args), call.returns) if t.is_decimal or t.base == "real" else fn("round", *args)


def _ceil_type(targets: list[TrinoType], _vars: dict[str, TrinoType]) -> TrinoType:
    return _rounded_decimal(targets[0]) if targets[0].is_decimal else targets[0]


def _same_kind(name: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        if call.arg_types[0].is_integral:
            return args[0]
        return cast(fn(name, args[0]), call.returns)

    return build


def _sign(args: list[exp.Expression], call: Call) -> exp.Expression:
    return cast(fn("sign", args[0]), call.returns)


def _truncate_type(targets: list[TrinoType], _vars: dict[str, TrinoType]) -> TrinoType:
    t = targets[0]
    if t.is_decimal:
        return T.decimal(max(1, t.precision - t.scale), 0) if len(targets) == 1 else t
    return t


def _mod_type(targets: list[TrinoType], _vars: dict[str, TrinoType]) -> TrinoType:
    a, b = targets
    return decimal_modulus(a, b) if a.is_decimal or b.is_decimal else a


def _mod(args: list[exp.Expression], call: Call) -> exp.Expression:
    return cast(exp.Mod(this=args[0], expression=args[1]), call.returns)


def _random(args: list[exp.Expression], call: Call) -> exp.Expression:
    if not args:
        return fn("random")
    return cast(fn("floor", exp.Mul(this=fn("random"), expression=args[0])), call.returns)


def _extreme(name: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        any_null = exp.or_(*(exp.Is(this=a.copy(), expression=exp.Null()) for a in args))
        return case((any_null, exp.Null()), default=fn(name, *args))

    return build


def _log(args: list[exp.Expression], call: Call) -> exp.Expression:
    return exp.Div(this=fn("ln", args[1]), expression=fn("ln", args[0]))


define(("abs",), signature("abs(T) -> T", **NUMERIC), duck="abs")
define(
    "sign",
    signature("sign(T) -> T", lambda ts, _v: T.decimal(1, 0) if ts[0].is_decimal else ts[0], **NUMERIC),
    duck=_sign,
)
define(
    "round",
    signature("round(T) -> T", _round_type, **NUMERIC),
    signature("round(T, integer) -> T", _round_type, **NUMERIC),
    duck=_round,
)
define(("ceil", "ceiling"), signature("ceil(T) -> T", _ceil_type, **NUMERIC), duck=_same_kind("ceil"))
define("floor", signature("floor(T) -> T", _ceil_type, **NUMERIC), duck=_same_kind("floor"))
define(
    "truncate",
    signature("truncate(double) -> double"),
    signature("truncate(real) -> real"),
    signature("truncate(decimal) -> decimal", _truncate_type),
    signature("truncate(double, integer) -> double"),
    duck=lambda args, call: cast(fn("trunc", *args), call.returns),
)
define("mod", signature("mod(T, T) -> T", _mod_type, **NUMERIC), duck=_mod)
define(("power", "pow"), "power(double, double) -> double", duck="pow")
for _name in ("sqrt", "cbrt", "exp", "ln", "log2", "log10", "degrees", "radians", "sin", "cos", "tan", "asin"):
    define(_name, f"{_name}(double) -> double", duck=_name)
for _name in ("acos", "atan", "sinh", "cosh", "tanh"):
    define(_name, f"{_name}(double) -> double", duck=_name)
define("atan2", "atan2(double, double) -> double", duck="atan2")
define("log", "log(double, double) -> double", duck=_log)
define("pi", "pi() -> double", duck="pi")
define("e", "e() -> double", duck=lambda args, call: cast(lit(2.718281828459045), T.DOUBLE))
define("infinity", "infinity() -> double", duck=lambda args, call: cast(lit("inf"), T.DOUBLE))
define("nan", "nan() -> double", duck=lambda args, call: cast(lit("nan"), T.DOUBLE))
define("is_nan", "is_nan(double) -> boolean", duck="isnan")
define("is_finite", "is_finite(double) -> boolean", duck="isfinite")
define("is_infinite", "is_infinite(double) -> boolean", duck="isinf")
define(
    ("random", "rand"),
    "random() -> double",
    signature("random(T) -> T", T="integral"),
    duck=_random,
    deterministic=False,
)
define("greatest", signature("greatest(T...) -> T", T="orderable"), duck=_extreme("greatest"))
define("least", signature("least(T...) -> T", T="orderable"), duck=_extreme("least"))
define("width_bucket", "width_bucket(double, double, double, bigint) -> bigint", duck="trino_width_bucket")
define("from_base", "from_base(varchar, bigint) -> bigint", duck="trino_from_base")
define("to_base", "to_base(bigint, bigint) -> varchar", duck="trino_to_base")
define(
    "bitwise_and", "bitwise_and(bigint, bigint) -> bigint", duck=lambda a, c: exp.BitwiseAnd(this=a[0], expression=a[1])
)
define(
    "bitwise_or", "bitwise_or(bigint, bigint) -> bigint", duck=lambda a, c: exp.BitwiseOr(this=a[0], expression=a[1])
)
define("bitwise_xor", "bitwise_xor(bigint, bigint) -> bigint", duck="xor")
define("bitwise_not", "bitwise_not(bigint) -> bigint", duck=lambda a, c: exp.BitwiseNot(this=a[0]))
define(
    "bitwise_left_shift",
    "bitwise_left_shift(bigint, bigint) -> bigint",
    duck=lambda a, c: exp.BitwiseLeftShift(this=a[0], expression=a[1]),
)
define(
    "bitwise_right_shift",
    "bitwise_right_shift(bigint, bigint) -> bigint",
    duck=lambda a, c: exp.BitwiseRightShift(this=a[0], expression=a[1]),
)

macro(
    "trino_width_bucket",
    "x, lo, hi, n",
    lambda fail: (
        f"CASE WHEN n <= 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'bucketCount must be greater than 0' + chr(39))} "
        f"WHEN lo = hi THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'bounds cannot equal each other' + chr(39))} "
        "WHEN lo < hi THEN (CASE WHEN x < lo THEN 0 WHEN x >= hi THEN n + 1 "
        "ELSE CAST(floor((x - lo) / (hi - lo) * n) AS BIGINT) + 1 END) "
        "ELSE (CASE WHEN x > lo THEN 0 WHEN x <= hi THEN n + 1 "
        "ELSE CAST(floor((lo - x) / (lo - hi) * n) AS BIGINT) + 1 END) END"
    ),
)
_DIGITS = "'0123456789abcdefghijklmnopqrstuvwxyz'"
macro(
    "trino_from_base",
    "s, radix",
    lambda fail: (
        f"CASE WHEN radix < 2 OR radix > 36 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'Radix must be between 2 and 36' + chr(39))} "
        f"WHEN NOT regexp_full_match(lower(s), '-?[0-9a-z]+') OR list_bool_or(list_transform("
        f"string_split(lower(ltrim(s, '-')), ''), lambda c: instr({_DIGITS}, c) - 1 >= radix)) "
        f"THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'Not a valid base-' + chr(39) + ' || radix || ' + chr(39) + ' number: ' + chr(39) + ' || s')} "
        "ELSE (CASE WHEN starts_with(s, '-') THEN -1 ELSE 1 END) * CAST(list_reduce(list_transform("
        f"string_split(lower(ltrim(s, '-')), ''), lambda c: CAST(instr({_DIGITS}, c) - 1 AS HUGEINT)), "
        "lambda acc, d: acc * radix + d, CAST(0 AS HUGEINT)) AS BIGINT) END"
    ),
)
macro(
    "trino_to_base",
    "x, radix",
    lambda fail: (
        f"CASE WHEN radix < 2 OR radix > 36 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'Radix must be between 2 and 36' + chr(39))} "
        "WHEN x = 0 THEN '0' ELSE (CASE WHEN x < 0 THEN '-' ELSE '' END) || array_to_string(list_reverse("
        "list_transform(range(0, CAST(floor(log(abs(CAST(x AS DOUBLE))) / log(radix) + 1e-9) AS BIGINT) + 1), "
        f"lambda i: substr({_DIGITS}, CAST((abs(CAST(x AS HUGEINT)) // CAST(pow(radix, i) AS HUGEINT)) % radix AS BIGINT) + 1, 1))), '') END"
    ),
)
