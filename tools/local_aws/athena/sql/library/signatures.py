"""Function signatures in Trino's notation, and binding argument types to them.

A signature is written as Trino's documentation writes it: ``substr(varchar, bigint) -> varchar``,
``contains(array(T), T) -> boolean``, ``transform(array(T), function(T, U)) -> array(U)``. Parameter
patterns are a concrete type (``bigint``: the argument must coerce to it), a family (``varchar``,
``decimal``, ``timestamp``, ``timestamptz``, ``time``, ``char``: any member, kept as given) or a type
variable (one capital letter, optionally constrained: the occurrences' common super type). Binding
returns what each argument is coerced to and the bound variables; its cost (0 = exact) picks the most
specific of several matching signatures, as Trino does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from local_aws.athena.sql import types as T
from local_aws.athena.sql.coercion import can_coerce, super_type
from local_aws.athena.sql.types import TrinoType

CONCRETE = {
    "boolean": T.BOOLEAN,
    "tinyint": T.TINYINT,
    "smallint": T.SMALLINT,
    "integer": T.INTEGER,
    "bigint": T.BIGINT,
    "real": T.REAL,
    "double": T.DOUBLE,
    "varbinary": T.VARBINARY,
    "json": T.JSON,
    "date": T.DATE,
    "interval_ds": T.INTERVAL_DAY_SECOND,
    "interval_ym": T.INTERVAL_YEAR_MONTH,
    "unknown": T.UNKNOWN,
    "uuid": T.UUID,
}
FAMILIES = {"varchar", "char", "decimal", "timestamp", "timestamptz", "time", "any"}
_FAMILY_BASE = {"timestamptz": T.TZ}
_FAMILY_DEFAULT = {
    "varchar": T.VARCHAR,
    "char": T.char(1),
    "decimal": T.decimal(1, 0),
    "timestamp": T.timestamp(3),
    "timestamptz": T.timestamp_tz(3),
    "time": T.time(3),
}


def _satisfies(t: TrinoType, constraint: str) -> bool:
    if constraint == "any" or t.is_unknown:
        return True
    if constraint == "numeric":
        return t.is_numeric
    if constraint == "integral":
        return t.is_integral
    if constraint == "orderable":
        return t.base not in ("map", "json", "function", "varbinary") and not (
            t.base in ("array", "row") and any(not _satisfies(x, "orderable") for x in t.children())
        )
    if constraint == "comparable":
        return t.base not in ("json", "function")
    raise ValueError(constraint)


@dataclass(frozen=True)
class Pattern:
    name: str
    args: tuple[Pattern, ...] = ()

    @property
    def is_var(self) -> bool:
        return bool(re.fullmatch(r"[A-Z][0-9]?", self.name))

    def display(self) -> str:
        shown = {"timestamptz": "timestamp(p) with time zone", "interval_ds": "interval day to second"}
        shown |= {"interval_ym": "interval year to month", "varchar": "varchar(x)", "decimal": "decimal(p,s)"}
        if self.args:
            return f"{self.name}({', '.join(a.display() for a in self.args)})"
        return shown.get(self.name, "timestamp(p)" if self.name == "timestamp" else self.name)


def parse_pattern(text: str) -> Pattern:
    text = text.strip()
    match = re.fullmatch(r"([a-z_][a-z_0-9]*|[A-Z][0-9]?)\s*(?:\((.*)\))?", text, re.DOTALL)
    if match is None:
        raise ValueError(f"bad type pattern {text!r}")
    name, inner = match.group(1), match.group(2)
    if inner is None:
        return Pattern(name)
    return Pattern(name, tuple(parse_pattern(p) for p in _split(inner)))


ReturnRule = Callable[[list[TrinoType], dict[str, TrinoType]], TrinoType]


@dataclass(frozen=True)
class Signature:
    params: tuple[Pattern, ...]
    returns: Pattern | ReturnRule
    variadic: bool = False  # the last parameter repeats (one or more times)
    constraints: dict[str, str] = field(default_factory=dict)

    def display(self, name: str) -> str:
        params = [p.display() for p in self.params]
        if self.variadic:
            params[-1] += "..."
        return f"{name}({', '.join(params)})"

    def arity_ok(self, n: int) -> bool:
        if self.variadic:
            return n >= len(self.params)
        return n == len(self.params)

    def param_for(self, index: int) -> Pattern:
        return self.params[min(index, len(self.params) - 1)] if self.variadic else self.params[index]


def signature(text: str, returns: str | ReturnRule | None = None, **constraints: str) -> Signature:
    """``signature("substr(varchar, bigint) -> varchar")``; ``returns`` may be a rule instead of ``-> ...``."""
    head, _, ret = text.partition("->")
    match = re.fullmatch(r"\s*\w+\((.*)\)\s*", head, re.DOTALL)
    if match is None:
        raise ValueError(f"bad signature {text!r}")
    inner = match.group(1).strip()
    variadic = inner.endswith("...")
    inner = inner.removesuffix("...")
    params = tuple(parse_pattern(p) for p in _split(inner)) if inner else ()
    rule: Pattern | ReturnRule = returns if returns is not None and not isinstance(returns, str) else None  # type: ignore[assignment]
    if rule is None:
        rule = parse_pattern(returns if isinstance(returns, str) else ret)
    return Signature(params, rule, variadic, dict(constraints))


def _split(text: str) -> list[str]:
    """Split at the commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


# ---------------------------------------------------------------------- binding


class Binding:
    """Type-variable bindings while matching one signature."""

    def __init__(self, constraints: dict[str, str]) -> None:
        self.constraints = constraints
        self.vars: dict[str, TrinoType] = {}
        self.cost = 0

    def bind_var(self, name: str, t: TrinoType) -> bool:
        current = self.vars.get(name)
        merged = t if current is None else super_type(current, t)
        if merged is None or not _satisfies(merged, self.constraints.get(name, "any")):
            return False
        self.vars[name] = merged
        return True

    def match(self, pattern: Pattern, t: TrinoType) -> bool:
        """Record what ``t`` implies for ``pattern``; concrete checks wait for :meth:`target`."""
        if pattern.is_var:
            return self.bind_var(pattern.name, t)
        if pattern.name in ("array", "map", "row") and pattern.args:
            if t.is_unknown:
                return True
            if t.base != pattern.name:
                return False
            children = t.children()
            if pattern.name == "row":
                return len(children) == len(pattern.args) and all(map(self.match, pattern.args, children))
            return all(self.match(p, c) for p, c in zip(pattern.args, children, strict=True))
        return True

    def target(self, pattern: Pattern, t: TrinoType) -> TrinoType | None:
        """The type an argument of type ``t`` is coerced to for ``pattern`` (None: it cannot be)."""
        resolved = self.resolve(pattern, t)
        if resolved is None or not can_coerce(t, resolved):
            return None
        if resolved != t:
            self.cost += 1 if t.is_unknown else 2
        return resolved

    def resolve(self, pattern: Pattern, given: TrinoType | None = None) -> TrinoType | None:
        name = pattern.name
        if pattern.is_var:
            return self.vars.get(name, T.UNKNOWN)
        if name in CONCRETE:
            return CONCRETE[name]
        if name == "any":  # any type, each occurrence on its own (format's arguments)
            return given if given is not None else T.UNKNOWN
        if name in FAMILIES:
            base = _FAMILY_BASE.get(name, name)
            if given is not None and given.base == base:
                return given
            if given is not None and name == "decimal" and given.is_integral:
                return T.decimal_of(given)
            if given is not None and name in ("timestamp", "timestamptz") and given.base in ("date", "timestamp"):
                precision = given.precision if given.base == "timestamp" else 0
                return T.timestamp(precision) if name == "timestamp" else T.timestamp_tz(precision, "UTC")
            if given is not None and name == "varchar" and given.base == "char":
                return T.VARCHAR
            return _FAMILY_DEFAULT[name] if given is None or given.is_unknown else None
        children = [self.resolve(p, c) for p, c in zip(pattern.args, _given_children(pattern, given), strict=False)]
        if any(c is None for c in children):
            return None
        if name == "array":
            return T.array(children[0])  # type: ignore[arg-type]
        if name == "map":
            return T.map_of(children[0], children[1])  # type: ignore[arg-type]
        if name == "row":
            names = (
                [n for n, _ in given.fields] if given is not None and given.base == "row" else [None] * len(children)
            )
            return T.row(list(zip(names, children, strict=True)))  # type: ignore[arg-type]
        if name == "function":
            return T.function(children[-1], *children[:-1])  # type: ignore[arg-type]
        raise ValueError(f"unknown type pattern {name}")


def _given_children(pattern: Pattern, given: TrinoType | None) -> list[TrinoType | None]:
    if given is None or given.base != pattern.name:
        return [None] * len(pattern.args)
    return list(given.children()) or [None] * len(pattern.args)
