"""String and binary functions (trino.io/docs/current/functions/string.html, binary.html).

Where DuckDB's function of the same name differs, a macro holds Trino's behaviour: ``split_part`` past
the last field and ``concat`` with a NULL give NULL, ``split`` honours its limit, ``strpos`` finds the
n-th instance, ``substr`` from position 0 is empty, an empty padding string is an error.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.duck import cast, fn, lit, macro
from local_aws.athena.sql.library.registry import Call, define, same_as, signature

_Q = chr(39)


def _msg(text: str) -> str:
    return _Q + text.replace(_Q, _Q * 2) + _Q


_INSTANCE = _msg("'instance' must be a positive number.")


def _concat(args: list[exp.Expression], call: Call) -> exp.Expression:
    if call.returns.base != "array":
        out = args[0]
        for arg in args[1:]:
            out = exp.DPipe(this=out, expression=arg, safe=False)
        return out
    arrays = [t.base == "array" for t in call.arg_types]
    if arrays == [False, True]:
        return fn("list_prepend", args[0], args[1])
    out = args[0]
    for arg, is_array in zip(args[1:], arrays[1:], strict=True):
        out = fn("list_concat" if is_array else "list_append", out, arg)
    return out


def _varchar_of(targets: list[T.TrinoType], _vars: dict[str, T.TrinoType]) -> T.TrinoType:
    return targets[0] if targets[0].base == "varchar" else T.VARCHAR


define("length", "length(varchar) -> bigint", "length(char) -> bigint", "length(varbinary) -> bigint",
       duck=lambda a, c: fn("octet_length" if c.arg_types[0].base == "varbinary" else "length", a[0]))  # fmt: skip
for _name in ("lower", "upper"):
    define(_name, signature(f"{_name}(varchar) -> varchar", same_as(0)), duck=_name)
for _name in ("trim", "ltrim", "rtrim"):
    define(
        _name,
        signature(f"{_name}(varchar) -> varchar", same_as(0)),
        signature(f"{_name}(varchar, varchar) -> varchar", same_as(0)),
        duck=_name,
    )
define(
    "reverse",
    signature("reverse(varchar) -> varchar", same_as(0)),
    "reverse(varbinary) -> varbinary",
    "reverse(array(E)) -> array(E)",
    duck=lambda a, c: fn("list_reverse" if c.arg_types[0].base == "array" else "reverse", a[0]),
)
define(
    "replace",
    "replace(varchar, varchar) -> varchar",
    "replace(varchar, varchar, varchar) -> varchar",
    duck=lambda a, c: fn("replace", a[0], a[1], a[2] if len(a) > 2 else lit("")),
)
define(
    ("substr", "substring"),
    signature("substr(varchar, bigint) -> varchar", _varchar_of),
    signature("substr(varchar, bigint, bigint) -> varchar", _varchar_of),
    duck=lambda a, c: fn("trino_substr", a[0], a[1], a[2] if len(a) > 2 else cast(lit(2**31), T.BIGINT)),
)
define(
    "concat",
    "concat(varchar, varchar...) -> varchar",
    "concat(array(E), array(E)...) -> array(E)",
    "concat(array(E), E) -> array(E)",
    "concat(E, array(E)) -> array(E)",
    duck=_concat,
)
define(
    "concat_ws",
    "concat_ws(varchar, varchar...) -> varchar",
    "concat_ws(varchar, array(varchar)) -> varchar",
    duck=lambda a, c: fn("array_to_string", a[1], a[0]) if c.arg_types[1].base == "array" else fn("concat_ws", *a),
)
define(
    "strpos",
    "strpos(varchar, varchar) -> bigint",
    "strpos(varchar, varchar, bigint) -> bigint",
    duck=lambda a, c: fn("strpos", *a) if len(a) == 2 else fn("trino_strpos", *a),
)
define("strrpos", "strrpos(varchar, varchar) -> bigint", duck="trino_strrpos")
define(
    "split",
    "split(varchar, varchar) -> array(varchar)",
    "split(varchar, varchar, bigint) -> array(varchar)",
    duck=lambda a, c: fn("trino_split_limit", *a) if len(a) == 3 else fn("string_split", *a),
)
define("split_part", "split_part(varchar, varchar, bigint) -> varchar", duck="trino_split_part")
define("split_to_map", "split_to_map(varchar, varchar, varchar) -> map(varchar, varchar)", duck="trino_split_to_map")
define(("lpad",), "lpad(varchar, bigint, varchar) -> varchar", duck="trino_lpad")
define(("rpad",), "rpad(varchar, bigint, varchar) -> varchar", duck="trino_rpad")
define("starts_with", "starts_with(varchar, varchar) -> boolean", duck="starts_with")
define("translate", "translate(varchar, varchar, varchar) -> varchar", duck="translate")
define("chr", "chr(bigint) -> varchar", duck=lambda a, c: fn("chr", cast(a[0], T.INTEGER)))
define("codepoint", "codepoint(varchar) -> integer", duck=lambda a, c: cast(fn("unicode", a[0]), T.INTEGER))
define("levenshtein_distance", "levenshtein_distance(varchar, varchar) -> bigint", duck="levenshtein")
define("hamming_distance", "hamming_distance(varchar, varchar) -> bigint", duck="trino_hamming")
define(
    "normalize",
    "normalize(varchar) -> varchar",
    "normalize(varchar, varchar) -> varchar",
    duck=lambda a, c: fn("trino_normalize", a[0], a[1] if len(a) > 1 else lit("NFC")),
)
define("to_utf8", "to_utf8(varchar) -> varbinary", duck="encode")
define("from_utf8", "from_utf8(varbinary) -> varchar", duck="decode")
define("to_hex", "to_hex(varbinary) -> varchar", duck="hex")
define("from_hex", "from_hex(varchar) -> varbinary", duck="unhex")
define("to_base64", "to_base64(varbinary) -> varchar", duck="to_base64")
define("from_base64", "from_base64(varchar) -> varbinary", duck="from_base64")
for _name in ("md5", "sha1", "sha256"):
    define(_name, f"{_name}(varbinary) -> varbinary", duck=lambda a, c, n=_name: fn("unhex", fn(n, a[0])))
define("format", "format(varchar) -> varchar", "format(varchar, any...) -> varchar", duck="printf")
define("luhn_check", "luhn_check(varchar) -> boolean", duck="trino_luhn_check")

macro("trino_substr", "s, start, n", "CASE WHEN start = 0 OR n < 0 THEN '' ELSE substring(s, start, n) END")
macro(
    "trino_strpos",
    "s, sub, n",
    lambda fail: (
        f"CASE WHEN n <= 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', _INSTANCE)} "
        "WHEN s IS NULL OR sub IS NULL THEN NULL WHEN sub = '' THEN 1 "
        "WHEN len(string_split(s, sub)) - 1 < n THEN 0 "
        "ELSE length(array_to_string(list_slice(string_split(s, sub), 1, n), sub)) + 1 END"
    ),
)
macro(
    "trino_strrpos",
    "s, sub",
    "CASE WHEN strpos(s, sub) = 0 THEN 0 ELSE length(s) - strpos(reverse(s), reverse(sub)) - length(sub) + 2 END",
)
macro(
    "trino_split_limit",
    "s, d, lim",
    lambda fail: (
        f"CASE WHEN lim <= 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', _msg('Limit must be positive'))} "
        "ELSE list_concat(list_slice(string_split(s, d), 1, lim - 1), CASE WHEN len(string_split(s, d)) >= lim "
        "THEN [array_to_string(list_slice(string_split(s, d), lim, len(string_split(s, d))), d)] ELSE [] END) END"
    ),
)
macro(
    "trino_split_part",
    "s, d, idx",
    lambda fail: (
        f"CASE WHEN idx <= 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', _msg('Index must be greater than zero'))} "
        "WHEN idx > len(string_split(s, d)) THEN NULL ELSE split_part(s, d, idx) END"
    ),
)
macro(
    "trino_split_to_map",
    "s, entry_sep, kv_sep",
    "map_from_entries(list_transform(list_filter(string_split(s, entry_sep), lambda e: e <> ''), "
    "lambda e: {'k': split_part(e, kv_sep, 1), 'v': substring(e, strpos(e, kv_sep) + length(kv_sep))}))",
)
for _side in ("lpad", "rpad"):
    macro(
        f"trino_{_side}",
        "s, n, pad",
        lambda fail, side=_side: (
            f"CASE WHEN pad = '' AND n > length(s) THEN {fail('INVALID_FUNCTION_ARGUMENT', _msg('Padding string must not be empty'))} "
            f"WHEN n < 0 THEN {fail('INVALID_FUNCTION_ARGUMENT', _msg('Target length must be in the range [0..2147483647]'))} "
            f"ELSE {side}(s, CAST(n AS INTEGER), pad) END"
        ),
    )
macro(
    "trino_hamming",
    "a, b",
    lambda fail: (
        f"CASE WHEN length(a) <> length(b) THEN {fail('INVALID_FUNCTION_ARGUMENT', _msg('The input strings to hamming_distance function must have the same length'))} "
        "ELSE hamming(a, b) END"
    ),
)
macro(
    "trino_luhn_check",
    "s",
    "list_sum(list_transform(list_reverse(string_split(s, '')), lambda c, i: CASE WHEN i % 2 = 0 "
    "THEN (CAST(c AS INTEGER) * 2) // 10 + (CAST(c AS INTEGER) * 2) % 10 ELSE CAST(c AS INTEGER) END)) % 10 = 0",
)
