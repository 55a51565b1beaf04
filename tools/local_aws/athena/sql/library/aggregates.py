"""Aggregate and window functions (trino.io/docs/current/functions/aggregate.html, window.html).

Result types are Trino's: ``sum`` of an integer is bigint and fails on overflow (DuckDB sums in 128
bits: the check runs on the finished sum), ``sum`` of decimal(p,s) is decimal(38,s), ``avg`` of a
decimal stays decimal(p,s) rounded half up (sum and count of the same rows, divided exactly),
``count_if`` of no rows is 0. ``post`` rules receive the finished aggregate, with its FILTER and OVER.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.decimals import decimal_divide_expression
from local_aws.athena.sql.library.duck import cast, fn, lit, macro
from local_aws.athena.sql.library.registry import AGGREGATE, WINDOW, Call, define, signature

ORDERABLE = {"T": "orderable"}


def rewrap(finished: exp.Expression, inner: exp.Expression, replacement: exp.Expression) -> exp.Expression:
    """A copy of ``finished`` (an aggregate call, possibly inside FILTER / OVER) with the call replaced."""
    if finished is inner:
        return replacement
    inner.replace(replacement)
    result = finished.copy()
    replacement.replace(inner)
    return result


def _call_of(finished: exp.Expression) -> exp.Expression:
    node = finished
    while isinstance(node, (exp.Window, exp.Filter, exp.IgnoreNulls, exp.RespectNulls, exp.WithinGroup)):
        node = node.this
    return node


def _sum_type(targets: list[T.TrinoType], _v: dict[str, T.TrinoType]) -> T.TrinoType:
    t = targets[0]
    if t.is_integral:
        return T.BIGINT
    if t.is_decimal:
        return T.decimal(38, t.scale)
    return t


def _sum_post(finished: exp.Expression, call: Call) -> exp.Expression:
    if call.returns.base == "bigint":
        return fn("trino_bigint_sum", finished)
    return cast(finished, call.returns)


def _avg_type(targets: list[T.TrinoType], _v: dict[str, T.TrinoType]) -> T.TrinoType:
    t = targets[0]
    return t if t.is_decimal or t.base == "real" else T.DOUBLE


def _avg(args: list[exp.Expression], call: Call) -> exp.Expression:
    if call.returns.is_decimal:
        return fn("sum", *args)
    return fn("avg", *args)


def _avg_post(finished: exp.Expression, call: Call) -> exp.Expression:
    if not call.returns.is_decimal:
        return cast(finished, call.returns)
    inner = _call_of(finished)
    count = rewrap(finished, inner, fn("count", *(a.copy() for a in inner.expressions)))
    t = call.returns
    return decimal_divide_expression(
        cast(finished, T.decimal(38, t.scale)), T.decimal(38, t.scale), cast(count, T.BIGINT), T.BIGINT, t
    )


def _count_if(args: list[exp.Expression], call: Call) -> exp.Expression:
    return fn("count", exp.Case(ifs=[exp.If(this=args[0], true=lit(1))]))


def _pairs(args: list[exp.Expression]) -> exp.Expression:
    return fn(
        "list",
        exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.to_identifier("k"), expression=args[0]),
                exp.PropertyEQ(this=exp.to_identifier("v"), expression=args[1]),
            ]
        ),
    )


def _cast_post(finished: exp.Expression, call: Call) -> exp.Expression:
    return cast(finished, call.returns)


define("count", "count() -> bigint", "count(T) -> bigint", duck="count", kind=AGGREGATE)
define("count_if", "count_if(boolean) -> bigint", duck=_count_if, kind=AGGREGATE)
define("sum", signature("sum(T) -> T", _sum_type, T="numeric"), duck="sum", kind=AGGREGATE, post=_sum_post)
define("avg", signature("avg(T) -> T", _avg_type, T="numeric"), duck=_avg, kind=AGGREGATE, post=_avg_post)
for _name in ("min", "max"):
    one, many = signature(f"{_name}(T) -> T", **ORDERABLE), signature(f"{_name}(T, bigint) -> array(T)", **ORDERABLE)
    define(_name, one, many, duck=_name, kind=AGGREGATE)
    one = signature(f"{_name}_by(T, U) -> T", U="orderable")
    many = signature(f"{_name}_by(T, U, bigint) -> array(T)", U="orderable")
    define(f"{_name}_by", one, many, duck=f"arg_{_name}", kind=AGGREGATE)
define(("arbitrary", "any_value"), "arbitrary(T) -> T", duck="any_value", kind=AGGREGATE)
define("array_agg", "array_agg(T) -> array(T)", duck="array_agg", kind=AGGREGATE)
define(("bool_and", "every"), "bool_and(boolean) -> boolean", duck="bool_and", kind=AGGREGATE)
define("bool_or", "bool_or(boolean) -> boolean", duck="bool_or", kind=AGGREGATE)
define(
    "approx_distinct",
    "approx_distinct(T) -> bigint",
    "approx_distinct(T, double) -> bigint",
    duck=lambda a, c: fn("approx_count_distinct", a[0]),
    kind=AGGREGATE,
    post=_cast_post,
)
define(
    "approx_percentile",
    signature("approx_percentile(T, double) -> T", T="numeric"),
    signature("approx_percentile(T, array(double)) -> array(T)", T="numeric"),
    duck=lambda a, c: fn("quantile_disc", a[0], a[1]),
    kind=AGGREGATE,
    post=_cast_post,
)
for _name in ("var_pop", "var_samp", "stddev_pop", "stddev_samp", "kurtosis", "skewness", "geometric_mean"):
    define(_name, f"{_name}(double) -> double", duck=_name, kind=AGGREGATE)
define("variance", "variance(double) -> double", duck="var_samp", kind=AGGREGATE)
define("stddev", "stddev(double) -> double", duck="stddev_samp", kind=AGGREGATE)
for _name in ("corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept"):
    define(_name, f"{_name}(double, double) -> double", duck=_name, kind=AGGREGATE)
define("bitwise_and_agg", "bitwise_and_agg(bigint) -> bigint", duck="bit_and", kind=AGGREGATE)
define("bitwise_or_agg", "bitwise_or_agg(bigint) -> bigint", duck="bit_or", kind=AGGREGATE)
define(
    "set_agg", "set_agg(T) -> array(T)", duck=lambda a, c: fn("list", exp.Distinct(expressions=[a[0]])), kind=AGGREGATE
)
define(
    "map_agg",
    "map_agg(K, V) -> map(K, V)",
    duck=lambda a, c: _pairs(a),
    kind=AGGREGATE,
    post=lambda finished, c: cast(fn("trino_map_agg", finished), c.returns),
)
define(
    "multimap_agg",
    "multimap_agg(K, V) -> map(K, array(V))",
    duck=lambda a, c: _pairs(a),
    kind=AGGREGATE,
    post=lambda finished, c: cast(fn("trino_multimap_from_entries", finished), c.returns),
)
define("histogram", "histogram(T) -> map(T, bigint)", duck="histogram", kind=AGGREGATE, post=_cast_post)
define(
    "listagg", "listagg(varchar, varchar) -> varchar", "listagg(varchar) -> varchar", duck="string_agg", kind=AGGREGATE
)

for _name in ("row_number", "rank", "dense_rank"):
    define(_name, f"{_name}() -> bigint", duck=_name, kind=WINDOW)
for _name in ("percent_rank", "cume_dist"):
    define(_name, f"{_name}() -> double", duck=_name, kind=WINDOW)
define("ntile", "ntile(bigint) -> bigint", duck="ntile", kind=WINDOW)
for _name in ("lag", "lead"):
    define(
        _name, f"{_name}(T) -> T", f"{_name}(T, bigint) -> T", f"{_name}(T, bigint, T) -> T", duck=_name, kind=WINDOW
    )
define(("first_value",), "first_value(T) -> T", duck="first_value", kind=WINDOW)
define(("last_value",), "last_value(T) -> T", duck="last_value", kind=WINDOW)
define("nth_value", "nth_value(T, bigint) -> T", duck="nth_value", kind=WINDOW)

macro(
    "trino_bigint_sum",
    "s",
    lambda fail: (
        "CASE WHEN s IS NULL THEN NULL WHEN s > 9223372036854775807 OR s < -9223372036854775808 "
        f"THEN {fail('NUMERIC_VALUE_OUT_OF_RANGE', chr(39) + 'bigint addition overflow' + chr(39))} ELSE CAST(s AS BIGINT) END"
    ),
)
macro(
    "trino_map_agg",
    "es",
    "map_from_entries(list_filter(es, lambda e, i: e.k IS NOT NULL AND "
    "list_position(list_transform(es, lambda x: x.k IS NOT DISTINCT FROM e.k), true) = i))",
)
