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


for _src in ("json", "varchar"):
    define("json_extract", f"json_extract({_src}, varchar) -> json", duck="json_extract")
    define("json_extract_scalar", f"json_extract_scalar({_src}, varchar) -> varchar", duck="trino_json_extract_scalar")
    define("json_array_length", f"json_array_length({_src}) -> bigint",
           duck=lambda a, c: cast(fn("json_array_length", a[0]), T.BIGINT))  # fmt: skip
    define("json_size", f"json_size({_src}, varchar) -> bigint", duck="trino_json_size")
    define("is_json_scalar", f"is_json_scalar({_src}) -> boolean", duck="trino_is_json_scalar")
    define("json_array_get", f"json_array_get({_src}, bigint) -> json",
           duck=lambda a, c: fn("json_extract", a[0], exp.DPipe(this=exp.DPipe(this=lit("$["), expression=cast(a[1], "VARCHAR")), expression=lit("]"))))  # fmt: skip
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
