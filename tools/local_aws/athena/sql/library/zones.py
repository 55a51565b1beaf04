"""Time zones and date patterns: Trino's zone ids, a zoned value's local time in DuckDB, and the Joda-Time
(``format_datetime``) and MySQL (``date_format``) patterns as strftime patterns.

DuckDB's TIMESTAMPTZ holds an instant only; Trino's ``timestamp with time zone`` also holds its zone.
The analyzer carries the zone with the expression's type (``TrinoType.zone``) whenever it is known
statically; :func:`local` and :func:`instant` convert between the instant and the wall-clock time in
that zone. A fixed offset (``+05:30``) is plain arithmetic; a region (``America/New_York``) goes
through DuckDB's ICU ``timezone()``.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.library.duck import cast, fn, lit

_OFFSET = re.compile(r"^([+-])(\d{1,2})(?::?(\d{2}))?$")
UTC = "UTC"


@lru_cache(maxsize=512)
def normalize_zone(text: str) -> str:
    """Trino's id for a zone (``UTC``, ``+05:30``, ``America/New_York``); INVALID_FUNCTION_ARGUMENT if unknown."""
    zone = text.strip()
    if zone.upper() in ("UTC", "Z", "GMT", "UT", "ZULU", "UCT", "ETC/UTC", "ETC/GMT", "GMT0"):
        return UTC
    match = _OFFSET.match(zone.removeprefix("UTC").removeprefix("GMT") if zone[:3] in ("UTC", "GMT") else zone)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise QueryFailed("INVALID_FUNCTION_ARGUMENT", f"Invalid time zone offset: {text}")
        if hours == 0 and minutes == 0:
            return UTC
        return f"{sign}{hours:02d}:{minutes:02d}"
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
        raise QueryFailed("INVALID_FUNCTION_ARGUMENT", f"Time zone not supported: {text}") from err
    return zone


def offset_minutes(zone: str) -> int | None:
    """Minutes east of UTC for a fixed-offset zone id; None for a region."""
    if zone == UTC:
        return 0
    match = _OFFSET.match(zone)
    if not match:
        return None
    minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
    return -minutes if match.group(1) == "-" else minutes


def require_zone(zone: str | None, what: str) -> str:
    if zone is None:
        raise QueryFailed(
            "NOT_SUPPORTED",
            f"{what} of a timestamp with time zone whose zone differs from row to row is not supported by the "
            "local Athena endpoint (it keeps one zone per expression)",
        )
    return zone


def _minutes(n: int) -> exp.Expression:
    return fn("to_minutes", cast(lit(n), "BIGINT"))


def local(node: exp.Expression, zone: str) -> exp.Expression:
    """The wall-clock TIMESTAMP of a TIMESTAMPTZ instant in ``zone``."""
    offset = offset_minutes(zone)
    if offset == 0:
        return cast(node, "TIMESTAMP")
    if offset is not None:
        return exp.Add(this=cast(node, "TIMESTAMP"), expression=_minutes(offset))
    return fn("timezone", lit(zone), node)


def instant(node: exp.Expression, zone: str) -> exp.Expression:
    """The TIMESTAMPTZ instant of a wall-clock TIMESTAMP read in ``zone``."""
    offset = offset_minutes(zone)
    if offset == 0:
        return cast(node, "TIMESTAMPTZ")
    if offset is not None:
        return cast(exp.Sub(this=node, expression=_minutes(offset)), "TIMESTAMPTZ")
    return fn("timezone", lit(zone), node)


def offset_of(node: exp.Expression, zone: str) -> exp.Expression:
    """Minutes east of UTC of ``zone`` at the instant ``node`` (a BIGINT expression)."""
    offset = offset_minutes(zone)
    if offset is not None:
        return cast(lit(offset), "BIGINT")
    return fn("date_sub", lit("minute"), cast(node, "TIMESTAMP"), fn("timezone", lit(zone), node))


# ---------------------------------------------------------------------- patterns

_JODA = [
    ("yyyy", "%Y"), ("YYYY", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%-m"),
    ("dd", "%d"), ("d", "%-d"), ("DDD", "%j"), ("HH", "%H"), ("H", "%-H"), ("hh", "%I"), ("h", "%-I"),
    ("mm", "%M"), ("m", "%-M"), ("ss", "%S"), ("s", "%-S"), ("SSSSSSSSS", "%n"), ("SSSSSS", "%f"),
    ("SSS", "%g"), ("SS", "%g"), ("S", "%g"), ("a", "%p"), ("EEEE", "%A"), ("EEE", "%a"), ("E", "%a"),
]  # fmt: skip
ZONE_TOKENS = ("ZZZ", "ZZ", "Z", "zzzz", "z")


def joda_to_strftime(pattern: str) -> list[str]:
    """A Joda pattern as strftime pieces; zone tokens (``Z``, ``ZZ``, ``ZZZ``, ``z``) stay separate pieces
    prefixed with ``\\0`` for the caller to render."""
    out: list[str] = []
    text: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            literal = pattern[i + 1 : end]
            text.append("'" if literal == "" else literal.replace("%", "%%"))
            i = end + 1
            continue
        zone_token = next((z for z in ZONE_TOKENS if pattern.startswith(z, i)), None)
        if zone_token:
            out.append("".join(text))
            text = []
            out.append("\0" + zone_token)
            i += len(zone_token)
            continue
        for token, repl in _JODA:
            if pattern.startswith(token, i):
                text.append(repl)
                i += len(token)
                break
        else:
            if ch.isalpha():
                raise QueryFailed("INVALID_FUNCTION_ARGUMENT", f"Illegal pattern component: {ch}")
            text.append("%%" if ch == "%" else ch)
            i += 1
    out.append("".join(text))
    return [p for p in out if p]


_MYSQL = {
    "a": "%a", "b": "%b", "c": "%-m", "d": "%d", "e": "%-d", "f": "%f", "H": "%H", "h": "%I", "I": "%I",
    "i": "%M", "j": "%j", "k": "%-H", "l": "%-I", "M": "%B", "m": "%m", "p": "%p", "r": "%I:%M:%S %p",
    "S": "%S", "s": "%S", "T": "%H:%M:%S", "v": "%V", "W": "%A", "w": "%w", "x": "%G", "Y": "%Y", "y": "%y",
    "%": "%%", "U": "%U", "u": "%W",
}  # fmt: skip


def mysql_to_strftime(pattern: str) -> str:
    """A MySQL ``date_format``/``date_parse`` pattern as strftime (``%i`` minutes, ``%s`` seconds)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%" and i + 1 < len(pattern):
            spec = pattern[i + 1]
            if spec not in _MYSQL:
                raise QueryFailed("INVALID_FUNCTION_ARGUMENT", f"Unsupported date_format specifier %{spec}")
            out.append(_MYSQL[spec])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
