"""Values as Athena prints them: every result value is text (``VarCharValue``) in Trino's spelling, chosen
by the value's Trino type, not by the Python value DuckDB returns.

``double`` is Java's ``Double.toString`` (``1.0E7``), ``real`` ``Float.toString``, ``decimal(p,s)`` has
exactly s fraction digits, ``timestamp(p)`` p fraction digits, a ``timestamp with time zone`` its local
time and zone id, intervals ``D HH:mm:ss.SSS`` and ``Y-M``, arrays ``[a, b]``, maps ``{k=v}``, rows
``{field=value}`` (NULL inside them ``null``).
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import zoneinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.zones import offset_minutes
from local_aws.athena.sql.types import TrinoType


def _java_text(sign: bool, digits: str, exponent: int) -> str:
    """Java's text of digits d.ddd x 10^exponent: plain in [1e-3, 1e7), else ``d.dddE<exponent>``."""
    digits = digits.rstrip("0") or "0"
    point = exponent + 1  # digits before the decimal point
    prefix = "-" if sign else ""
    if -3 <= exponent < 7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{digits}"
        integral = digits[:point].ljust(point, "0")
        fraction = digits[point:] or "0"
        return f"{prefix}{integral}.{fraction}"
    return f"{prefix}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _decompose(text: str) -> tuple[bool, str, int]:
    """(negative?, significant digits, exponent of the first digit) of a decimal text."""
    number = Decimal(text)
    digits = "".join(map(str, number.as_tuple().digits)).lstrip("0") or "0"
    return number.is_signed(), digits, number.adjusted()


def _special(x: float) -> str | None:
    """Java's text of NaN, the infinities and the zeros (None for other numbers)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    return None


def java_double(x: float) -> str:
    """``Double.toString``: the shortest repr, plain between 10^-3 and 10^7, scientific outside."""
    return _special(x) or _java_text(*_decompose(repr(float(x))))


def java_float(x: float) -> str:
    """``Float.toString``: the shortest decimal that reads back as the same 32-bit float."""
    special = _special(x)
    if special is not None:
        return special
    single = struct.unpack("f", struct.pack("f", x))[0]
    for precision in range(1, 10):
        text = f"{single:.{precision}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    return _java_text(*_decompose(text))


@lru_cache(maxsize=256)
def _tzinfo(zone: str) -> dt.tzinfo:
    offset = offset_minutes(zone)
    if offset is not None:
        return dt.timezone(dt.timedelta(minutes=offset))
    return zoneinfo.ZoneInfo(zone)


def _fraction(microseconds: int, precision: int) -> str:
    if precision <= 0:
        return ""
    digits = f"{microseconds:06d}"
    return "." + (digits[:precision] if precision <= 6 else digits + "0" * (precision - 6))


def _interval_day_second(value: dt.timedelta) -> str:
    total_ms = round(value.total_seconds() * 1000)
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    days, rest = divmod(total_ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{sign}{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _interval_year_month(value: dt.timedelta) -> str:
    months = round(value.days / 30)
    sign = "-" if months < 0 else ""
    years, rest = divmod(abs(months), 12)
    return f"{sign}{years}-{rest}"


def render(value: Any, t: TrinoType) -> str | None:
    """Athena's text of one value of type ``t`` (None stays None: SQL NULL)."""
    if value is None or t.is_unknown:
        return None
    b = t.base
    if b == "boolean":
        return "true" if value else "false"
    if b in T.INTEGRAL:
        return str(int(value))
    if b == "double":
        return java_double(float(value))
    if b == "real":
        return java_float(float(value))
    if b == "decimal":
        return f"{Decimal(value):.{t.scale}f}"
    if b == "date":
        return value.isoformat()
    if b == "timestamp":
        return value.strftime("%Y-%m-%d %H:%M:%S") + _fraction(value.microsecond, t.precision)
    if b == T.TZ:
        zone = t.zone or "UTC"
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        local = moment.astimezone(_tzinfo(zone))
        return local.strftime("%Y-%m-%d %H:%M:%S") + _fraction(local.microsecond, t.precision) + " " + zone
    if b == "time":
        return value.strftime("%H:%M:%S") + _fraction(value.microsecond, t.precision)
    if b == T.INTERVAL_DS:
        return _interval_day_second(value)
    if b == T.INTERVAL_YM:
        return _interval_year_month(value)
    if b == "varbinary":
        return " ".join(f"{byte:02x}" for byte in bytes(value))
    if b == "array":
        return "[" + ", ".join(_nested(v, t.element) for v in value) + "]"
    if b == "map":
        return "{" + ", ".join(f"{_nested(k, t.key)}={_nested(v, t.value)}" for k, v in _pairs(value)) + "}"
    if b == "row":
        values = list(value.values()) if isinstance(value, dict) else list(value)
        names = [n or f"field{i}" for i, (n, _) in enumerate(t.fields)]
        return (
            "{"
            + ", ".join(f"{n}={_nested(v, ft)}" for n, v, (_, ft) in zip(names, values, t.fields, strict=False))
            + "}"
        )
    return str(value)


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    if isinstance(value, dict):
        if set(value) == {"key", "value"} and isinstance(value.get("key"), list):
            return list(zip(value["key"], value["value"], strict=False))
        return list(value.items())
    return [(entry["key"], entry["value"]) for entry in value]


def _nested(value: Any, t: TrinoType) -> str:
    text = render(value, t)
    return "null" if text is None else text
