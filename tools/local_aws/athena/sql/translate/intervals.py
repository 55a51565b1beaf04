"""Interval literals (``INTERVAL '2' DAY``, ``INTERVAL '1-2' YEAR TO MONTH``, ``INTERVAL '1 10:30:00' DAY
TO SECOND``) as DuckDB intervals built from exact months or microseconds."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.library.duck import cast, fn, lit

_MICROS = {"DAY": 86_400_000_000, "HOUR": 3_600_000_000, "MINUTE": 60_000_000, "SECOND": 1_000_000}


def _invalid(text: str, unit: str) -> QueryFailed:
    return QueryFailed("INVALID_LITERAL", f"Invalid INTERVAL {unit} value: {text}")


def _units(node: exp.Interval) -> tuple[str, str]:
    unit = node.args.get("unit")
    if isinstance(unit, exp.IntervalSpan):
        return unit.this.name.upper(), unit.expression.name.upper()
    name = (unit.name if unit is not None else "DAY").upper().rstrip("S")
    return name, name


def interval_literal(node: exp.Interval) -> exp.Expression:
    text = node.this.name if isinstance(node.this, exp.Literal) else node.this.sql()
    first, last = _units(node)
    sign = -1 if text.strip().startswith("-") else 1
    body = text.strip().lstrip("+-")
    if first in ("YEAR", "MONTH"):
        if first == "YEAR" and last == "MONTH":
            match = re.fullmatch(r"(\d+)-(\d+)", body)
            if not match:
                raise _invalid(text, "YEAR TO MONTH")
            months = int(match.group(1)) * 12 + int(match.group(2))
        else:
            if not body.isdigit():
                raise _invalid(text, first)
            months = int(body) * (12 if first == "YEAR" else 1)
        return fn("to_months", cast(lit(sign * months), "INTEGER"))
    return fn("to_microseconds", cast(lit(sign * _day_second_micros(body, first, last, text)), "BIGINT"))


def _day_second_micros(body: str, first: str, last: str, text: str) -> int:
    order = ["DAY", "HOUR", "MINUTE", "SECOND"]
    if first not in order or last not in order:
        raise _invalid(text, first)
    fields = order[order.index(first) : order.index(last) + 1]
    parts = re.split(r"[ :]", body) if len(fields) > 1 else [body]
    if len(parts) != len(fields):
        raise _invalid(text, f"{first} TO {last}")
    total = Decimal(0)
    try:
        for name, part in zip(fields, parts, strict=True):
            total += Decimal(part) * _MICROS[name]
    except InvalidOperation as err:
        raise _invalid(text, first) from err
    return int(total)
