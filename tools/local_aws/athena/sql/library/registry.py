"""The function library as a table: each Trino function with its signatures, its kind and its DuckDB form.

A :class:`Function` is registered by the family modules (``math``, ``strings``, ``datetime``, ...) with
:func:`define`. The analyzer calls :func:`resolve` with the argument types (lambdas are typed through a
callback once the other arguments have bound the lambda's parameter types); the translator calls the
function's ``duck`` with the translated arguments. ``duck`` is a DuckDB function or macro name (the
arguments pass through) or a callable building the DuckDB expression; ``post`` wraps the finished
aggregate or window expression (an overflow check, a rounding) when the value needs Trino's type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from local_aws.athena.sql.coercion import can_coerce
from local_aws.athena.sql.library.signatures import Pattern, Signature, signature
from local_aws.athena.sql.types import TrinoType

SCALAR, AGGREGATE, WINDOW = "scalar", "aggregate", "window"


@dataclass
class Call:
    """One resolved call, as the translator sees it."""

    name: str
    function: Function
    arg_types: list[TrinoType]  # after coercion
    returns: TrinoType
    node: exp.Expression  # the call node (Anonymous), for DISTINCT / ORDER BY details
    bindings: dict[str, TrinoType] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> Call:  # analysis results are shared, not copied
        return self


DuckForm = str | Callable[[list[exp.Expression], Call], exp.Expression]
PostForm = Callable[[exp.Expression, Call], exp.Expression]
# The zone of a ``timestamp with time zone`` result, from the argument nodes and their types.
ZoneRule = Callable[[list[exp.Expression], list[TrinoType]], str | None]


def first_zone(args: list[exp.Expression], types: list[TrinoType]) -> str | None:
    """The default zone rule: the zone of the first zoned argument."""
    for t in types:
        if t.base == "timestamp with time zone":
            return t.zone
    return None


@dataclass
class Function:
    name: str
    signatures: list[Signature]
    duck: DuckForm
    kind: str = SCALAR
    post: PostForm | None = None
    deterministic: bool = True
    zone: ZoneRule = first_zone


class ResolveError(Exception):
    """No signature matches: the analyzer turns it into FUNCTION_NOT_FOUND with this message."""


class NotRegistered(Exception):
    pass


REGISTRY: dict[str, Function] = {}


def define(
    name: str | tuple[str, ...],
    *signatures: str | Signature,
    duck: DuckForm | None = None,
    kind: str = SCALAR,
    post: PostForm | None = None,
    deterministic: bool = True,
    zone: ZoneRule = first_zone,
) -> None:
    """Register a function under one or more names; signatures as text (``f(bigint) -> bigint``) or built."""
    names = (name,) if isinstance(name, str) else name
    sigs = [s if isinstance(s, Signature) else signature(s) for s in signatures]
    for n in names:
        if n in REGISTRY:
            raise ValueError(f"function {n} is defined twice: give all its signatures in one define()")
        REGISTRY[n] = Function(n, sigs, duck if duck is not None else names[0], kind, post, deterministic, zone)


def lookup(name: str) -> Function:
    function = REGISTRY.get(name.lower())
    if function is None:
        raise NotRegistered(name)
    return function


LambdaTyper = Callable[[int, list[TrinoType]], TrinoType]


@dataclass
class Resolved:
    signature: Signature
    targets: list[TrinoType]  # per argument: what it is coerced to
    returns: TrinoType
    bindings: dict[str, TrinoType]


def _describe(types: list[TrinoType]) -> str:
    return ", ".join(t.display() for t in types)


def resolve(function: Function, arg_types: list[TrinoType | None], type_lambda: LambdaTyper | None = None) -> Resolved:
    """Bind the arguments to the most specific signature. ``None`` in ``arg_types`` marks a lambda,
    typed by ``type_lambda(index, param_types)`` once its parameter types are bound."""
    best: Resolved | None = None
    best_cost = 1 << 30
    for sig in function.signatures:
        if not sig.arity_ok(len(arg_types)):
            continue
        found = _try(sig, arg_types, type_lambda)
        if found is not None and found[1] < best_cost:
            best, best_cost = found[0], found[1]
    if best is None:
        shown = [t.display() if t is not None else "lambda" for t in arg_types]
        expected = ", ".join(s.display(function.name) for s in function.signatures)
        raise ResolveError(
            f"Unexpected parameters ({', '.join(shown)}) for function {function.name}. Expected: {expected}"
        )
    return best


def _try(
    sig: Signature, arg_types: list[TrinoType | None], type_lambda: LambdaTyper | None
) -> tuple[Resolved, int] | None:
    from local_aws.athena.sql.library.signatures import Binding

    binding = Binding(sig.constraints)
    patterns = [sig.param_for(i) for i in range(len(arg_types))]
    for pattern, t in zip(patterns, arg_types, strict=True):
        if t is None:
            if pattern.name != "function":
                return None
            continue
        if pattern.name == "function" or not binding.match(pattern, t):
            return None
    for i, (pattern, t) in enumerate(zip(patterns, arg_types, strict=True)):
        if t is not None:
            continue
        if type_lambda is None:
            return None
        params = [binding.resolve(p) for p in pattern.args[:-1]]
        if any(p is None for p in params):
            return None
        body = type_lambda(i, params)  # type: ignore[arg-type]
        if not binding.match(pattern.args[-1], body):
            return None
        returns = binding.resolve(pattern.args[-1], body)
        if returns is None or not can_coerce(body, returns):
            return None  # e.g. a filter lambda that does not return a boolean
    targets: list[TrinoType] = []
    for pattern, t in zip(patterns, arg_types, strict=True):
        if t is None:
            resolved = binding.resolve(pattern)
            if resolved is None:
                return None
            targets.append(resolved)
            continue
        target = binding.target(pattern, t)
        if target is None:
            return None
        targets.append(target)
    if isinstance(sig.returns, Pattern):
        returns = _return_of(sig.returns, binding, targets)
    else:
        returns = sig.returns(targets, binding.vars)
    if returns is None:
        return None
    return Resolved(sig, targets, returns, dict(binding.vars)), binding.cost


def _return_of(pattern: Pattern, binding: Any, targets: list[TrinoType]) -> TrinoType | None:
    if pattern.name.startswith("arg") and pattern.name[3:].isdigit():
        return targets[int(pattern.name[3:])]
    return binding.resolve(pattern)


def same_as(index: int) -> Callable[[list[TrinoType], dict[str, TrinoType]], TrinoType]:
    """A return rule: the (coerced) type of argument ``index``."""
    return lambda targets, _vars: targets[index]
