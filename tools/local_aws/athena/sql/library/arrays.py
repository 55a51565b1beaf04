"""Array functions and the lambda functions over arrays (trino.io/docs/current/functions/array.html,
lambda.html), on DuckDB's lists.

Where DuckDB differs: ``slice`` takes a length, ``sequence`` counts down when start > stop,
``array_distinct`` keeps first occurrences in order, ``array_position`` is 0 when absent, ``[]`` fails
out of bounds (``element_at`` is NULL), ``array_sort`` with a comparator ranks each element by the
comparator, and ``any_match``/``all_match`` follow Trino's three-valued logic.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.duck import apply_lambda, cast, fn, lam, lambda_params, lit, macro
from local_aws.athena.sql.library.registry import Call, define, signature


def _col(name: str) -> exp.Expression:
    return exp.column(name)


def _lambda_call(duck_name: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        return fn(duck_name, *args)

    return build


def _sort(args: list[exp.Expression], call: Call) -> exp.Expression:
    if len(args) == 1:
        return fn("list_sort", args[0], lit("ASC"), lit("NULLS LAST"))
    a, cmp = args
    x, i, y, j = _col("__x"), _col("__i"), _col("__y"), _col("__j")
    before = exp.or_(
        exp.LT(this=apply_lambda(cmp, y, x), expression=lit(0)),
        exp.and_(exp.EQ(this=apply_lambda(cmp, y, x), expression=lit(0)), exp.LT(this=j, expression=i)),
    )
    rank = fn("len", fn("list_filter", a.copy(), lam(["__y", "__j"], before)))
    keyed = fn("list_transform", a.copy(), lam(["__x", "__i"], exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.to_identifier("r"), expression=rank),
        exp.PropertyEQ(this=exp.to_identifier("v"), expression=x.copy()),
    ])))  # fmt: skip
    return fn(
        "list_transform",
        fn("list_sort", keyed),
        lam(["__p"], exp.Dot(this=_col("__p"), expression=exp.to_identifier("v"))),
    )


def _zip_with(args: list[exp.Expression], call: Call) -> exp.Expression:
    a, b, f = args
    p = _col("__p")
    body = apply_lambda(f, fn("struct_extract_at", p, lit(1)), fn("struct_extract_at", p.copy(), lit(2)))
    return fn("list_transform", fn("list_zip", a, b), lam(["__p"], body))


def _reduce(args: list[exp.Expression], call: Call) -> exp.Expression:
    """``reduce(a, s0, (s, x) -> s', s -> r)``: DuckDB's ``list_reduce(list, f, initial)``."""
    a, initial, merge, finish = args
    state_type = call.bindings["S"]
    step = lam(lambda_params(merge), cast(merge.this, state_type))
    reduced = fn("list_reduce", a, step, cast(initial, state_type))
    return apply_lambda(finish, reduced)


def _match(kind: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        return fn(f"trino_{kind}", fn("list_transform", args[0], args[1]))

    return build


def _sequence(args: list[exp.Expression], call: Call) -> exp.Expression:
    element = call.returns.element
    if element.base == "bigint":
        return fn("trino_sequence", *args) if len(args) == 3 else fn("trino_sequence2", *args)
    step = args[2] if len(args) == 3 else fn("to_days", lit(1))
    start, stop = cast(args[0], "TIMESTAMP"), cast(args[1], "TIMESTAMP")
    series = fn("generate_series", start, stop, step)
    if element.base == "date":
        return fn("list_transform", series, lam(["__d"], cast(_col("__d"), T.DATE)))
    return series


def _ngrams_type(targets: list[T.TrinoType], _v: dict[str, T.TrinoType]) -> T.TrinoType:
    return T.array(targets[0])


define("cardinality", "cardinality(array(E)) -> bigint", "cardinality(map(K, V)) -> bigint",
       duck=lambda a, c: cast(fn("cardinality" if c.arg_types[0].base == "map" else "len", a[0]), T.BIGINT))  # fmt: skip
define("contains", signature("contains(array(T), T) -> boolean", T="comparable"), duck="list_contains")
define("array_join", "array_join(array(T), varchar) -> varchar", "array_join(array(T), varchar, varchar) -> varchar",
       duck=lambda a, c: fn("trino_array_join", cast(a[0], T.array(T.VARCHAR)), a[1], a[2] if len(a) > 2 else exp.Null()))  # fmt: skip
define("array_sort", signature("array_sort(array(T)) -> array(T)", T="orderable"),
       "array_sort(array(T), function(T, T, integer)) -> array(T)", duck=_sort)  # fmt: skip
define("array_distinct", "array_distinct(array(T)) -> array(T)", duck="trino_array_distinct")
define("array_max", signature("array_max(array(T)) -> T", T="orderable"), duck="trino_array_max")
define("array_min", signature("array_min(array(T)) -> T", T="orderable"), duck="trino_array_min")
define("array_position", "array_position(array(T), T) -> bigint", duck="trino_array_position")
define("array_remove", "array_remove(array(T), T) -> array(T)", duck="trino_array_remove")
define("array_intersect", "array_intersect(array(T), array(T)) -> array(T)", duck="trino_array_intersect")
define("array_union", "array_union(array(T), array(T)) -> array(T)", duck="trino_array_union")
define("array_except", "array_except(array(T), array(T)) -> array(T)", duck="trino_array_except")
define("arrays_overlap", "arrays_overlap(array(T), array(T)) -> boolean", duck="list_has_any")
define("flatten", "flatten(array(array(T))) -> array(T)", duck="flatten")
define("repeat", "repeat(T, bigint) -> array(T)", duck="trino_repeat")
define("slice", "slice(array(T), bigint, bigint) -> array(T)", duck="trino_slice")
define("trim_array", "trim_array(array(T), bigint) -> array(T)", duck="trino_trim_array")
define("contains_sequence", "contains_sequence(array(T), array(T)) -> boolean", duck="trino_contains_sequence")
define("ngrams", signature("ngrams(array(T), integer) -> array(array(T))"), duck="trino_ngrams")
define("array_frequency", "array_frequency(array(T)) -> map(T, integer)", duck="trino_array_frequency")
define(
    "sequence",
    "sequence(bigint, bigint) -> array(bigint)",
    "sequence(bigint, bigint, bigint) -> array(bigint)",
    "sequence(date, date) -> array(date)",
    "sequence(date, date, interval_ds) -> array(date)",
    "sequence(date, date, interval_ym) -> array(date)",
    signature("sequence(timestamp, timestamp, interval_ds) -> array(timestamp)", lambda ts, v: T.array(ts[0])),
    signature("sequence(timestamp, timestamp, interval_ym) -> array(timestamp)", lambda ts, v: T.array(ts[0])),
    duck=_sequence,
)
define(
    "element_at",
    "element_at(array(E), bigint) -> E",
    "element_at(map(K, V), K) -> V",
    duck=lambda a, c: fn("map_extract_value", *a) if c.arg_types[0].base == "map" else fn("trino_element_at", *a),
)
define("zip", "zip(array(T), array(U)) -> array(row(T, U))", "zip(array(T), array(U), array(V)) -> array(row(T, U, V))",
       duck=lambda a, c: cast(fn("list_zip", *a), c.returns))  # fmt: skip
define("zip_with", "zip_with(array(T), array(U), function(T, U, R)) -> array(R)", duck=_zip_with)
define("transform", "transform(array(T), function(T, U)) -> array(U)", duck=_lambda_call("list_transform"))
define("filter", "filter(array(T), function(T, boolean)) -> array(T)", duck=_lambda_call("list_filter"))
define("reduce", "reduce(array(T), S, function(S, T, S), function(S, R)) -> R", duck=_reduce)
define("any_match", "any_match(array(T), function(T, boolean)) -> boolean", duck=_match("any_true"))
define("all_match", "all_match(array(T), function(T, boolean)) -> boolean", duck=_match("all_true"))
define("none_match", "none_match(array(T), function(T, boolean)) -> boolean", duck=_match("none_true"))

macro(
    "trino_subscript",
    "a, i",
    lambda fail: (
        "CASE WHEN a IS NULL OR i IS NULL THEN NULL "
        f"WHEN i < 1 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'SQL array indices start at 1' + chr(39))} "
        f"WHEN i > len(a) THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'Array subscript must be less than or equal to array length: ' + chr(39) + ' || i || ' + chr(39) + ' > ' + chr(39) + ' || len(a)')} "
        "ELSE a[i] END"
    ),
)
macro(
    "trino_element_at",
    "a, i",
    lambda fail: (
        f"CASE WHEN i = 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'SQL array indices start at 1' + chr(39))} "
        "ELSE list_extract(a, i) END"
    ),
)
macro(
    "trino_array_join",
    "a, sep, nul",
    "array_to_string(CASE WHEN nul IS NULL THEN a ELSE list_transform(a, lambda x: coalesce(x, nul)) END, sep)",
)
macro(
    "trino_array_distinct",
    "a",
    "list_filter(a, lambda x, i: list_position(list_transform(a, lambda y: y IS NOT DISTINCT FROM x), true) = i)",
)
macro(
    "trino_array_max",
    "a",
    "CASE WHEN list_position(list_transform(a, lambda x: x IS NULL), true) > 0 THEN NULL ELSE list_max(a) END",
)
macro(
    "trino_array_min",
    "a",
    "CASE WHEN list_position(list_transform(a, lambda x: x IS NULL), true) > 0 THEN NULL ELSE list_min(a) END",
)
macro(
    "trino_array_position",
    "a, x",
    "CASE WHEN a IS NULL OR x IS NULL THEN NULL ELSE coalesce(list_position(a, x), 0) END",
)
macro("trino_array_remove", "a, x", "list_filter(a, lambda y: y IS NULL OR y <> x)")
macro("trino_array_intersect", "a, b", "trino_array_distinct(list_filter(a, lambda x: list_contains(b, x)))")
macro("trino_array_union", "a, b", "trino_array_distinct(list_concat(a, b))")
macro(
    "trino_array_except",
    "a, b",
    "trino_array_distinct(list_filter(a, lambda x: NOT coalesce(list_contains(b, x), false)))",
)
macro("trino_repeat", "x, n", lambda fail: (
    f"CASE WHEN n < 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'count argument of repeat function must be greater than or equal to 0' + chr(39))} "
    "ELSE list_transform(range(n), lambda i: x) END"))  # fmt: skip
macro(
    "trino_slice",
    "a, start, n",
    lambda fail: (
        f"CASE WHEN start = 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'SQL array indices start at 1' + chr(39))} "
        f"WHEN n < 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'length must be greater than or equal to 0' + chr(39))} "
        "WHEN start > 0 THEN list_slice(a, start, start + n - 1) "
        "WHEN len(a) + start + 1 < 1 THEN [] "
        "ELSE list_slice(a, len(a) + start + 1, len(a) + start + n) END"
    ),
)
macro(
    "trino_trim_array",
    "a, n",
    lambda fail: (
        f"CASE WHEN n < 0 OR n > len(a) THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'size must not be negative or greater than the array length' + chr(39))} "
        "ELSE list_slice(a, 1, len(a) - n) END"
    ),
)
macro(
    "trino_contains_sequence",
    "a, s",
    "len(s) = 0 OR coalesce(list_bool_or(list_transform(range(1, len(a) - len(s) + 2), "
    "lambda i: list_slice(a, i, i + len(s) - 1) = s)), false)",
)
macro(
    "trino_ngrams",
    "a, n",
    lambda fail: (
        f"CASE WHEN n <= 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'N must be positive' + chr(39))} "
        "WHEN n >= len(a) THEN [a] "
        "ELSE list_transform(range(1, len(a) - n + 2), lambda i: list_slice(a, i, i + n - 1)) END"
    ),
)
macro(
    "trino_array_frequency",
    "a",
    "map_from_entries(list_transform(trino_array_distinct(list_filter(a, lambda x: x IS NOT NULL)), "
    "lambda x: {'k': x, 'v': CAST(len(list_filter(a, lambda y: y = x)) AS INTEGER)}))",
)
macro("trino_sequence2", "a, b", "generate_series(a, b, CASE WHEN a <= b THEN 1 ELSE -1 END)")
macro(
    "trino_sequence",
    "a, b, step",
    lambda fail: (
        f"CASE WHEN step = 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'step must not be zero' + chr(39))} "
        f"WHEN (step > 0 AND a > b) OR (step < 0 AND a < b) THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'sequence stop value should be greater than or equal to start value if step is greater than zero otherwise stop should be less than or equal to start' + chr(39))} "
        "ELSE generate_series(a, b, step) END"
    ),
)
macro(
    "trino_any_true",
    "t",
    "CASE WHEN list_contains(t, true) THEN true WHEN list_position(list_transform(t, lambda v: v IS NULL), true) > 0 THEN NULL ELSE false END",
)
macro(
    "trino_all_true",
    "t",
    "CASE WHEN list_contains(t, false) THEN false WHEN list_position(list_transform(t, lambda v: v IS NULL), true) > 0 THEN NULL ELSE true END",
)
macro(
    "trino_none_true",
    "t",
    "CASE WHEN list_contains(t, true) THEN false WHEN list_position(list_transform(t, lambda v: v IS NULL), true) > 0 THEN NULL ELSE true END",
)
