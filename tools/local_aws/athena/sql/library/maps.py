"""Map functions and the lambda functions over maps (trino.io/docs/current/functions/map.html), on
DuckDB's MAP. A map's entries are structs ``{key, value}`` (``map_entries``); the lambda functions
filter or transform those and rebuild the map with ``map_from_entries``.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql.library.duck import apply_lambda, cast, fn, lam, macro
from local_aws.athena.sql.library.registry import Call, define


def _entry(name: str) -> exp.Expression:
    return exp.Dot(this=exp.column("__e"), expression=exp.to_identifier(name))


def _pair(key: exp.Expression, value: exp.Expression) -> exp.Expression:
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("key"), expression=key),
            exp.PropertyEQ(this=exp.to_identifier("value"), expression=value),
        ]
    )


def _map_filter(args: list[exp.Expression], call: Call) -> exp.Expression:
    m, f = args
    keep = apply_lambda(f, _entry("key"), _entry("value"))
    return fn("map_from_entries", fn("list_filter", fn("map_entries", m), lam(["__e"], keep)))


def _transform(which: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        m, f = args
        new = apply_lambda(f, _entry("key"), _entry("value"))
        pair = _pair(new, _entry("value")) if which == "keys" else _pair(_entry("key"), new)
        rebuilt = fn("map_from_entries", fn("list_transform", fn("map_entries", m), lam(["__e"], pair)))
        return cast(rebuilt, call.returns)

    return build


def _map_zip_with(args: list[exp.Expression], call: Call) -> exp.Expression:
    m1, m2, f = args
    k = exp.column("__k")
    keys = fn("trino_array_distinct", fn("list_concat", fn("map_keys", m1.copy()), fn("map_keys", m2.copy())))
    value = apply_lambda(
        f, k, fn("map_extract_value", m1.copy(), k.copy()), fn("map_extract_value", m2.copy(), k.copy())
    )
    return cast(fn("map_from_entries", fn("list_transform", keys, lam(["__k"], _pair(k.copy(), value)))), call.returns)


def _map_constructor(args: list[exp.Expression], call: Call) -> exp.Expression:
    if not args:
        return cast(fn("map"), call.returns) if not call.returns.key.is_unknown else fn("map")
    return fn("trino_map", *args)


define("map", "map() -> map(unknown, unknown)", "map(array(K), array(V)) -> map(K, V)", duck=_map_constructor)
define("map_keys", "map_keys(map(K, V)) -> array(K)", duck="map_keys")
define("map_values", "map_values(map(K, V)) -> array(V)", duck="map_values")
define("map_entries", "map_entries(map(K, V)) -> array(row(K, V))", duck="map_entries")
define("map_from_entries", "map_from_entries(array(row(K, V))) -> map(K, V)", duck="map_from_entries")
define(
    "multimap_from_entries",
    "multimap_from_entries(array(row(K, V))) -> map(K, array(V))",
    duck="trino_multimap_from_entries",
)
define("map_concat", "map_concat(map(K, V)...) -> map(K, V)", duck="map_concat")
define("map_filter", "map_filter(map(K, V), function(K, V, boolean)) -> map(K, V)", duck=_map_filter)
define("transform_keys", "transform_keys(map(K, V), function(K, V, K2)) -> map(K2, V)", duck=_transform("keys"))
define("transform_values", "transform_values(map(K, V), function(K, V, V2)) -> map(K, V2)", duck=_transform("values"))
define(
    "map_zip_with",
    "map_zip_with(map(K, V1), map(K, V2), function(K, V1, V2, R)) -> map(K, R)",
    duck=_map_zip_with,
)

macro(
    "trino_map",
    "ks, vs",
    lambda fail: (
        f"CASE WHEN len(ks) <> len(vs) THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'Key and value arrays must be the same length' + chr(39))} "
        f"WHEN list_position(list_transform(ks, lambda k: k IS NULL), true) > 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'map key cannot be null' + chr(39))} "
        f"WHEN len(list_distinct(ks)) <> len(ks) THEN {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'Duplicate map keys are not allowed' + chr(39))} "
        "ELSE map(ks, vs) END"
    ),
)
macro(
    "trino_map_subscript",
    "m, k",
    lambda fail: (
        "CASE WHEN m IS NULL OR k IS NULL THEN NULL WHEN map_contains(m, k) THEN map_extract_value(m, k) "
        f"ELSE {fail('INVALID_FUNCTION_ARGUMENT', chr(39) + 'Key not present in map: ' + chr(39) + ' || CAST(k AS VARCHAR)')} END"
    ),
)
macro(
    "trino_multimap_from_entries",
    "es",
    "map_from_entries(list_transform(trino_array_distinct(list_transform(es, lambda e: struct_extract_at(e, 1))), "
    "lambda k: {'k': k, 'v': list_transform(list_filter(es, lambda e: struct_extract_at(e, 1) = k), "
    "lambda e: struct_extract_at(e, 2))}))",
)
