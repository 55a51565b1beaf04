"""Conditional and miscellaneous functions: ``if``, ``coalesce``, ``nullif``, ``try``, ``typeof``, ``uuid``
(trino.io/docs/current/functions/conditional.html, conversion.html). ``try`` and ``typeof`` are
handled by the translator (error-free macro variants; the analyzed type as text)."""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.duck import cast, lit
from local_aws.athena.sql.library.registry import Call, define


def _if(args: list[exp.Expression], call: Call) -> exp.Expression:
    node = exp.Case(ifs=[exp.If(this=args[0], true=args[1])])
    if len(args) > 2:
        node.set("default", args[2])
    return node


define("if", "if(boolean, T) -> T", "if(boolean, T, T) -> T", duck=_if)
define("coalesce", "coalesce(T) -> T", "coalesce(T, T...) -> T", duck="coalesce")
define("nullif", "nullif(T, T) -> T", duck="nullif")
define("try", "try(T) -> T", duck=lambda a, c: exp.Anonymous(this="TRY", expressions=a))  # see translate.try_wrap
define(
    "grouping",
    "grouping(any, any...) -> bigint",
    duck=lambda a, c: cast(exp.Anonymous(this="grouping", expressions=a), T.BIGINT),
)
define("typeof", "typeof(T) -> varchar", duck=lambda a, c: lit(c.arg_types[0].display()))
define("uuid", "uuid() -> uuid", duck="gen_random_uuid", deterministic=False)
