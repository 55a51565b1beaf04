"""JSON functions (trino.io/docs/current/functions/json.html) on DuckDB's json extension.

A ``json`` value is DuckDB's JSON text, kept in canonical form (``json()`` minifies it), which is how
Athena prints JSON. ``json_extract_scalar`` gives NULL for an object or an array, as Trino does.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.duck import cast, fn, lit, macro
from local_aws.athena.sql.library.registry import Call, define


def _array_contains(args: list[exp.Expression], call: Call) -> exp.Expression:
    value = fn("to_json", args[1])
    return fn("trino_json_array_contains", args[0], cast(value, "VARCHAR"))


def _both(name: str, rest: str, returns: str) -> list[str]:
    """A JSON function's signatures over json and over varchar (Trino declares both)."""
    return [f"{name}({src}{rest}) -> {returns}" for src in ("json", "varchar")]


def _array_get(args: list[exp.Expression], call: Call) -> exp.Expression:
    path = exp.DPipe(this=exp.DPipe(this=lit("$["), expression=cast(args[1], "VARCHAR")), expression=lit("]"))
    return fn("json_extract", args[0], path)


define("json_extract", *_both("json_extract", ", varchar", "json"), duck="json_extract")
define("json_extract_scalar", *_both("json_extract_scalar", ", varchar", "varchar"), duck="trino_json_extract_scalar")
define(
    "json_array_length",
    *_both("json_array_length", "", "bigint"),
    duck=lambda a, c: cast(fn("json_array_length", a[0]), T.BIGINT),
)
define("json_size", *_both("json_size", ", varchar", "bigint"), duck="trino_json_size")
define("is_json_scalar", *_both("is_json_scalar", "", "boolean"), duck="trino_is_json_scalar")
define("json_array_get", *_both("json_array_get", ", bigint", "json"), duck=_array_get)
define(
    "json_array_contains",
    "json_array_contains(json, T) -> boolean",
    "json_array_contains(varchar, T) -> boolean",
    duck=_array_contains,
)
define("json_parse", "json_parse(varchar) -> json", duck="json")
define("json_format", "json_format(json) -> varchar", duck=lambda a, c: cast(a[0], "VARCHAR"))

macro(
    "trino_json_extract_scalar",
    "j, p",
    "CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY', 'NULL') THEN NULL ELSE json_extract_string(j, p) END",
)
macro(
    "trino_json_size",
    "j, p",
    "CASE json_type(j, p) WHEN 'OBJECT' THEN CAST(len(json_keys(j, p)) AS BIGINT) "
    "WHEN 'ARRAY' THEN CAST(json_array_length(j, p) AS BIGINT) WHEN NULL THEN NULL ELSE 0 END",
)
macro("trino_is_json_scalar", "j", "json_type(json(j)) NOT IN ('OBJECT', 'ARRAY')")
macro(
    "trino_json_array_contains",
    "j, v",
    "CASE WHEN json_type(j) <> 'ARRAY' THEN NULL ELSE list_contains(list_transform(CAST(j AS JSON[]), "
    "lambda e: CAST(e AS VARCHAR)), v) END",
)
macro(
    "trino_json_to_varchar",
    "j",
    lambda fail: (
        "CASE json_type(j) WHEN 'NULL' THEN NULL WHEN 'VARCHAR' THEN json_extract_string(j, '$') "
        f"WHEN 'OBJECT' THEN {fail('INVALID_CAST_ARGUMENT', chr(39) + 'Cannot cast JSON to VARCHAR: ' + chr(39) + ' || CAST(j AS VARCHAR)')} "
        f"WHEN 'ARRAY' THEN {fail('INVALID_CAST_ARGUMENT', chr(39) + 'Cannot cast JSON to VARCHAR: ' + chr(39) + ' || CAST(j AS VARCHAR)')} "
        "ELSE CAST(j AS VARCHAR) END"
    ),
)
