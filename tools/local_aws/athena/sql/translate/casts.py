"""Conversions with Trino's semantics (trino.io/docs/current/functions/conversion.html), for explicit casts
and the analyzer's implicit coercions alike.

DuckDB's own CAST agrees in most cases. Where it does not, a macro holds Trino's rule: a double becomes
an integer by rounding half away from zero and fails out of range with INVALID_CAST_ARGUMENT; a varchar
becomes an integer only if it spells one (``'4.2'`` fails) and a boolean only from true/false/1/0/t/f;
a timestamp's text keeps its precision (``.500``); ``varchar(n)`` truncates and ``char(n)`` pads;
a JSON string casts to its value.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.duck import cast, fn, lam, lit, macro
from local_aws.athena.sql.library.zones import local, require_zone
from local_aws.athena.sql.types import TrinoType


def _same_value(source: TrinoType, target: TrinoType) -> bool:
    """No conversion at all: the DuckDB value already is the target's (varchar(n) -> varchar, zones)."""
    if source == target:
        return True
    if source.base == target.base and source.base in ("timestamp", T.TZ, "time"):
        return True
    if source.base == "varchar" and target.base == "varchar":
        return not target.args or (bool(source.args) and source.precision <= target.precision)
    return False


def _needs_rule(source: TrinoType, target: TrinoType) -> bool:
    """Does converting ``source`` to ``target`` need more than DuckDB's CAST?"""
    if _same_value(source, target):
        return False
    s, t = source.base, target.base
    if s in ("double", "real") and target.is_integral:
        return True
    if source.is_string and (target.is_integral or t == "boolean"):
        return True
    if t in ("varchar", "char") and s in ("double", "real", "timestamp", T.TZ, "json", "char", "varchar", "time"):
        return True
    if s == T.TZ and t in ("timestamp", "date", "time"):
        return True
    if t == "json" or s == "json":
        return True
    if s == t == "row" and [n for n, _ in source.fields] != [n for n, _ in target.fields]:
        return True  # DuckDB casts structs by field name; Trino's row casts go by position
    if s == t and s in ("array", "map", "row"):
        children = zip(source.children(), target.children(), strict=True)
        return any(_needs_rule(a, b) for a, b in children)
    return False


def convert(node: exp.Expression, source: TrinoType, target: TrinoType, safe: bool = False) -> exp.Expression:
    """``node`` (a DuckDB expression of Trino type ``source``) as ``target``, as Trino casts; ``safe``
    (try_cast, try()): NULL where the conversion fails."""
    out = _convert(node, source, target, safe)
    if not safe:
        return out
    if type(out) is exp.Cast:  # DuckDB's own casts become TRY_CAST
        return exp.TryCast(this=out.this, to=out.to)
    for found in list(out.find_all(exp.Cast)):
        if type(found) is exp.Cast:
            found.replace(exp.TryCast(this=found.this, to=found.to))
    return out


def _convert(node: exp.Expression, source: TrinoType, target: TrinoType, safe: bool) -> exp.Expression:
    if target.is_unknown or _same_value(source, target):
        return node
    if source.is_unknown:
        return cast(node, target)
    if not _needs_rule(source, target):
        return cast(node, target)
    s, t = source.base, target.base
    suffix = "__or_null" if safe else ""
    if s in ("double", "real") and target.is_integral:
        lo, hi = T.INTEGRAL_RANGE[t]
        return cast(fn(f"trino_float_to_integral{suffix}", node, lit(lo), lit(hi), lit(t)), target)
    if source.is_string and target.is_integral:
        lo, hi = T.INTEGRAL_RANGE[t]
        name = {"integer": "INT"}.get(t, t.upper())
        return cast(fn(f"trino_varchar_to_integral{suffix}", node, lit(lo), lit(hi), lit(name)), target)
    if source.is_string and t == "boolean":
        return fn(f"trino_varchar_to_boolean{suffix}", node)
    if t in ("varchar", "char"):
        return _to_varchar(node, source, target, safe)
    if s == T.TZ:
        wall = local(node, require_zone(source.zone, f"CAST to {target}"))
        return cast(wall, target)
    if t == "json":
        return fn("to_json", node)
    if s == "json":
        return cast(node, target)
    if s == "array":
        body = _convert(exp.column("__e"), source.element, target.element, safe)
        return cast(fn("list_transform", node, lam(["__e"], body)), target)
    if s == "map":
        key = _convert(exp.column("__k"), source.key, target.key, safe)
        value = _convert(exp.column("__v"), source.value, target.value, safe)
        entries = fn("map_entries", node)
        pair = exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.to_identifier("k"), expression=_field(key, "__k")),
                exp.PropertyEQ(this=exp.to_identifier("v"), expression=_field(value, "__v")),
            ]
        )
        return cast(fn("map_from_entries", fn("list_transform", entries, lam(["__p"], pair))), target)
    if s == "row":
        parts = [
            _convert(fn("struct_extract_at", node.copy(), lit(i + 1)), a, b, safe)
            for i, (a, b) in enumerate(zip(source.children(), target.children(), strict=True))
        ]
        return cast(fn("row", *parts), target)
    return cast(node, target)


def _field(node: exp.Expression, name: str) -> exp.Expression:
    """Point the map-entry lambda's ``__k``/``__v`` at the entry's key/value fields."""
    field_name = "key" if name == "__k" else "value"
    return node.transform(
        lambda n: (
            exp.Dot(this=exp.column("__p"), expression=exp.to_identifier(field_name))
            if isinstance(n, exp.Column) and n.name == name
            else n
        )
    )


def _to_varchar(node: exp.Expression, source: TrinoType, target: TrinoType, safe: bool) -> exp.Expression:
    s = source.base
    if s == "double":
        text = fn("trino_double_text", node)
    elif s == "real":
        text = fn("trino_real_text", node)
    elif s == "timestamp":
        text = fn("strftime", node, lit(timestamp_pattern(source.precision)))
    elif s == T.TZ:
        zone = require_zone(source.zone, "CAST to varchar")
        text = exp.DPipe(
            this=fn("strftime", local(node, zone), lit(timestamp_pattern(source.precision))),
            expression=lit(" " + zone),
            safe=False,
        )
    elif s == "time":
        text = fn(
            "strftime",
            exp.Add(this=cast(lit("1970-01-01"), "DATE"), expression=node),
            lit(time_pattern(source.precision)),
        )
    elif s == "json":
        text = fn("trino_json_to_varchar" + ("__or_null" if safe else ""), node)
    else:
        text = cast(node, "VARCHAR")
    if target.args:
        length = target.precision
        text = fn("substring", text, lit(1), lit(length))
        if target.base == "char":
            text = fn("rpad", text, lit(length), lit(" "))
    return text


def timestamp_pattern(precision: int) -> str:
    return "%Y-%m-%d %H:%M:%S" + fraction_pattern(precision)


def time_pattern(precision: int) -> str:
    return "%H:%M:%S" + fraction_pattern(precision)


def fraction_pattern(precision: int) -> str:
    return {0: "", 3: ".%g", 6: ".%f", 9: ".%n"}.get(precision, ".%g")


_UNABLE = "'Unable to cast ' || CAST(x AS VARCHAR) || ' to ' || name"
_CANNOT = "'Cannot cast ''' || s || ''' to ' || name"
_CANNOT_BOOLEAN = "'Cannot cast ''' || s || ''' to BOOLEAN'"
macro(
    "trino_float_to_integral",
    "x, lo, hi, name",
    lambda fail: (
        "CASE WHEN x IS NULL THEN NULL WHEN isnan(x) OR x <= lo - 0.5 OR x >= hi + 0.5 "
        f"THEN {fail('INVALID_CAST_ARGUMENT', _UNABLE)} ELSE CAST(round(x) AS HUGEINT) END"
    ),
)
macro(
    "trino_varchar_to_integral",
    "s, lo, hi, name",
    lambda fail: (
        "CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(trim(s), '[+-]?[0-9]+') "
        "AND TRY_CAST(trim(s) AS HUGEINT) BETWEEN lo AND hi THEN CAST(trim(s) AS HUGEINT) "
        f"ELSE {fail('INVALID_CAST_ARGUMENT', _CANNOT)} END"
    ),
)
macro(
    "trino_varchar_to_boolean",
    "s",
    lambda fail: (
        "CASE WHEN s IS NULL THEN NULL WHEN lower(s) IN ('true', 't', '1') THEN true "
        "WHEN lower(s) IN ('false', 'f', '0') THEN false "
        f"ELSE {fail('INVALID_CAST_ARGUMENT', _CANNOT_BOOLEAN)} END"
    ),
)
