"""Types of literals, as Trino types them (trino.io/docs/current/language/types.html).

``1`` is integer (bigint when it does not fit 32 bits, decimal beyond 64), ``1.5`` is decimal(2,1)
(the precision counts every digit written, the scale the digits after the point: ``DECIMAL
'0000012345.1234500000'`` is decimal(20,10)), ``1.5e0`` is double, ``'abc'`` varchar(3), ``NULL``
unknown; ``TIMESTAMP '... .123'`` has the precision of its fraction and, with a zone, is a
``timestamp with time zone`` in that zone.
"""

from __future__ import annotations

import re

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.zones import normalize_zone
from local_aws.athena.sql.types import TrinoType

_DECIMAL = re.compile(r"^\s*[+-]?(\d*)(?:\.(\d*))?\s*$")
_ZONED = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)\s*(.+?)\s*$")
Position = tuple[int, int] | None


def decimal_type(text: str, position: Position) -> TrinoType:
    match = _DECIMAL.match(text)
    if match is None or not (match.group(1) or match.group(2)):
        raise QueryFailed("INVALID_LITERAL", f"'{text}' is not a valid DECIMAL literal", position=position)
    integral, fraction = match.group(1) or "", match.group(2) or ""
    precision = max(1, len(integral) + len(fraction))
    if precision > T.MAX_DECIMAL:
        raise QueryFailed("INVALID_LITERAL", f"Decimal literal {text} exceeds the maximum precision", position=position)
    return T.decimal(precision, len(fraction))


def number_type(text: str, position: Position) -> TrinoType:
    if "e" in text.lower():
        try:
            float(text)
        except ValueError:
            raise QueryFailed("SYNTAX_ERROR", f"mismatched input '{text}'", position=position) from None
        return T.DOUBLE
    if "." in text:
        return decimal_type(text, position)
    value = int(text)
    if value <= 2**31 - 1:
        return T.INTEGER
    if value <= 2**63 - 1:
        return T.BIGINT
    return decimal_type(text, position)


def literal_type(node: exp.Expression, position: Position) -> TrinoType:
    if isinstance(node, exp.Boolean):
        return T.BOOLEAN
    if isinstance(node, exp.Null):
        return T.UNKNOWN
    if isinstance(node, exp.HexString):
        return T.VARBINARY
    if isinstance(node, exp.Interval):
        unit = node.args.get("unit")
        first = unit.this.name if isinstance(unit, exp.IntervalSpan) else (unit.name if unit is not None else "DAY")
        return T.INTERVAL_YEAR_MONTH if first.upper() in ("YEAR", "MONTH") else T.INTERVAL_DAY_SECOND
    assert isinstance(node, exp.Literal)
    if node.is_string:
        return T.varchar(len(node.this))
    return number_type(node.this, position)


def split_zone(text: str) -> tuple[str, str | None]:
    """``'2026-11-25 10:00:00.000 UTC'`` -> (the local text, the zone id), zone None when absent."""
    stripped = text.strip()
    offset = re.search(r"([+-]\d{1,2}(?::?\d{2})?)$", stripped)
    if offset and re.search(r"\d{1,2}:\d{2}", stripped[: offset.start()]):
        return stripped[: offset.start()].strip(), normalize_zone(offset.group(1))
    match = _ZONED.match(stripped)
    if match and match.group(2) and not match.group(2)[0].isdigit():
        return match.group(1), normalize_zone(match.group(2))
    return stripped, None


def type_literal(node: exp.Cast, position: Position) -> TrinoType:
    """The type of ``<type> '<text>'`` (DECIMAL, TIMESTAMP, DATE, TIME, JSON, BIGINT, ...)."""
    if not (isinstance(node.this, exp.Literal) and node.this.is_string):
        raise QueryFailed(
            "SYNTAX_ERROR", f"mismatched input '{node.this.sql()}'. Expecting: <string>", position=position
        )
    text = node.this.this
    kind = node.to.this
    if kind == exp.DType.DECIMAL and not node.to.expressions:
        return decimal_type(text, position)
    if kind in (exp.DType.VARCHAR, exp.DType.CHAR):
        return T.varchar(len(text)) if kind == exp.DType.VARCHAR else T.char(len(text))
    try:
        target = T.from_datatype(node.to)
    except T.UnknownType as err:
        raise QueryFailed("TYPE_NOT_FOUND", f"Unknown type: {err}", position=position) from err
    if target.base == T.TZ:
        _, zone = split_zone(text)
        return target.with_zone(zone or "UTC")
    return target


def cast_zone(node: exp.Expression, source: TrinoType) -> str | None:
    """The zone of ``CAST(node AS timestamp with time zone)``: kept, the session's (UTC), or the text's."""
    if source.base == T.TZ:
        return source.zone
    if source.base in ("timestamp", "date", "unknown"):
        return "UTC"
    if isinstance(node, exp.Literal) and node.is_string:
        return split_zone(node.this)[1] or "UTC"
    return None
