"""Building DuckDB expressions, and the DuckDB macros that hold Trino's semantics.

Every Trino error a macro raises goes through ``error('NAME: message')`` so the engine reports it under
Trino's name (``engine.duckdb_errors``). DuckDB's ``TRY`` refuses volatile functions such as ``error``,
so each raising macro is also defined as ``<name>__or_null`` returning NULL instead: the translator uses
those inside ``try(...)`` and ``try_cast``. Macros are created once per engine database
(:func:`definitions`), and every query's connection sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from local_aws.athena.sql.types import TrinoType

SAFE_SUFFIX = "__or_null"

Fail = Callable[[str, str], str]


@dataclass(frozen=True)
class Macro:
    name: str
    params: str
    body: str | Callable[[Fail], str]

    @property
    def raises(self) -> bool:
        return callable(self.body)

    def sql(self, safe: bool = False) -> str:
        text = self.body(_null if safe else _raise) if callable(self.body) else self.body
        name = self.name + (SAFE_SUFFIX if safe else "")
        return f"CREATE OR REPLACE MACRO {name}({self.params}) AS {text}"


def _raise(name: str, message_sql: str) -> str:
    return f"error('{name}: ' || ({message_sql}))"


def _null(name: str, message_sql: str) -> str:
    return "NULL"


MACROS: dict[str, Macro] = {}


def macro(name: str, params: str, body: str | Callable[[Fail], str]) -> None:
    """Register a macro (``body`` a callable taking ``fail(NAME, message_sql)`` when it can raise)."""
    MACROS[name] = Macro(name, params, body)


def definitions() -> list[str]:
    """CREATE MACRO statements for every macro, raising ones twice (plain and ``__or_null``)."""
    out = []
    for m in MACROS.values():
        out.append(m.sql())
        if m.raises:
            out.append(m.sql(safe=True))
    return out


def has_safe_variant(name: str) -> bool:
    found = MACROS.get(name.lower())
    return found is not None and found.raises


# ---------------------------------------------------------------------- expression builders


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def cast(node: exp.Expression, t: TrinoType | str) -> exp.Expression:
    to = exp.DataType.build(t, dialect="duckdb") if isinstance(t, str) else t.datatype()
    return exp.Cast(this=node, to=to)


def lit(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Expression:
    node = exp.Case(ifs=[exp.If(this=c, true=v) for c, v in whens])
    if default is not None:
        node.set("default", default)
    return node


def lam(params: list[str], body: exp.Expression) -> exp.Expression:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p in params])


def apply_lambda(node: exp.Expression, *values: exp.Expression) -> exp.Expression:
    """The body of a (translated) lambda with its parameters replaced by ``values``."""
    assert isinstance(node, exp.Lambda), node
    names = [p.name for p in node.expressions]
    body = node.this.copy()
    mapping = dict(zip(names, values, strict=True))

    def swap(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table and n.name in mapping:
            return mapping[n.name].copy()
        return n

    return body.transform(swap) if not (isinstance(body, exp.Column) and body.name in mapping) else swap(body)


def lambda_params(node: exp.Expression) -> list[str]:
    assert isinstance(node, exp.Lambda), node
    return [p.name for p in node.expressions]
