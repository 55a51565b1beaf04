"""Date and time functions (trino.io/docs/current/functions/datetime.html).

Values: ``date`` is DuckDB's DATE, ``timestamp(p)`` TIMESTAMP, ``timestamp(p) with time zone`` an instant
(TIMESTAMPTZ, session zone UTC) whose zone the analyzer carries (see ``zones``). Field functions,
``date_trunc``, ``date_add`` and the formatting functions work on the local time in that zone.
``date_diff`` is DuckDB's ``date_sub``: whole units elapsed, as Trino counts.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.errors import QueryFailed, not_supported
from local_aws.athena.sql import types as T
from local_aws.athena.sql.library.duck import cast, fn, lit, macro
from local_aws.athena.sql.library.registry import Call, define, signature
from local_aws.athena.sql.library.zones import (
    UTC,
    instant,
    joda_to_strftime,
    local,
    mysql_to_strftime,
    normalize_zone,
    offset_minutes,
    offset_of,
    require_zone,
)

DATE_UNITS = ("day", "week", "month", "quarter", "year")
TIME_UNITS = ("millisecond", "second", "minute", "hour")
_INTERVAL_OF = {
    "millisecond": "to_milliseconds",
    "second": "to_seconds",
    "minute": "to_minutes",
    "hour": "to_hours",
    "day": "to_days",
    "week": "to_weeks",
    "month": "to_months",
    "year": "to_years",
}


def literal_text(node: exp.Expression) -> str | None:
    while isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        node = node.this
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _unit(node: exp.Expression, t: T.TrinoType, function: str) -> str:
    text = literal_text(node)
    if text is None:
        raise not_supported(f"{function} with a unit that is not a constant")
    unit = text.lower()
    allowed = {"date": DATE_UNITS, "time": TIME_UNITS}.get(t.base, DATE_UNITS + TIME_UNITS)
    if unit not in allowed:
        kind = {"date": "DATE", "time": "Time"}.get(t.base, "Timestamp")
        raise QueryFailed("INVALID_FUNCTION_ARGUMENT", f"'{text}' is not a valid {kind} field")
    return unit


def _zoned(args: list[exp.Expression], call: Call, what: str) -> tuple[exp.Expression, str | None]:
    """(the local time of argument 0, its zone) — zone None for values without a zone."""
    x, t = args[0], call.arg_types[0]
    if t.base == T.TZ:
        zone = require_zone(t.zone, what)
        return local(x, zone), zone
    return x, None


def _field(name: str, duck_name: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        x, _ = _zoned(args, call, name)
        value = fn(duck_name, x)
        if name == "millisecond":
            value = exp.Mod(this=value, expression=lit(1000))
        return cast(value, T.BIGINT)

    return build


def _date_trunc(args: list[exp.Expression], call: Call) -> exp.Expression:
    t = call.arg_types[1]
    unit = _unit(args[0], t, "date_trunc")
    if t.base == T.TZ:
        zone = require_zone(t.zone, "date_trunc")
        return instant(fn("date_trunc", lit(unit), local(args[1], zone)), zone)
    return cast(fn("date_trunc", lit(unit), args[1]), call.returns)


def interval_of(unit: str, value: exp.Expression) -> exp.Expression:
    if unit == "quarter":
        return fn("to_months", exp.Mul(this=cast(value, "BIGINT"), expression=lit(3)))
    return fn(_INTERVAL_OF[unit], cast(value, "BIGINT" if unit != "second" else "DOUBLE"))


def _date_add(args: list[exp.Expression], call: Call) -> exp.Expression:
    t = call.arg_types[2]
    unit = _unit(args[0], t, "date_add")
    step = interval_of(unit, args[1])
    if t.base == T.TZ and unit in DATE_UNITS:
        zone = require_zone(t.zone, "date_add")
        return instant(exp.Add(this=local(args[2], zone), expression=step), zone)
    return cast(exp.Add(this=args[2], expression=step), call.returns)


def _date_diff(args: list[exp.Expression], call: Call) -> exp.Expression:
    t = call.arg_types[1]
    unit = _unit(args[0], t, "date_diff")
    a, b = args[1], args[2]
    if t.base == T.TZ:
        zone = require_zone(t.zone, "date_diff") if t.zone == call.arg_types[2].zone else UTC
        a, b = local(a, zone), local(b, zone)
    return cast(fn("date_sub", lit(unit), a, b), T.BIGINT)


def _pattern(node: exp.Expression, function: str) -> str:
    text = literal_text(node)
    if text is None:
        raise not_supported(f"{function} with a pattern that is not a constant")
    return text


def offset_text(minutes: exp.Expression, separator: str) -> exp.Expression:
    return fn("trino_offset_text", minutes, lit(separator))


def _format_datetime(args: list[exp.Expression], call: Call) -> exp.Expression:
    x, zone = _zoned(args, call, "format_datetime")
    zone = zone or UTC
    instant_node = args[0] if call.arg_types[0].base == T.TZ else cast(args[0], "TIMESTAMPTZ")
    pieces: list[exp.Expression] = []
    for piece in joda_to_strftime(_pattern(args[1], "format_datetime")):
        if not piece.startswith("\0"):
            pieces.append(fn("strftime", x.copy(), lit(piece)))
        elif piece[1:] in ("Z", "ZZ"):
            pieces.append(offset_text(offset_of(instant_node.copy(), zone), "" if piece[1:] == "Z" else ":"))
        elif piece[1:] == "ZZZ" or zone == UTC:
            pieces.append(lit(zone))
        else:
            raise not_supported("format_datetime with a zone name (z) of a zone other than UTC")
    out = pieces[0] if pieces else lit("")
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece, safe=False)
    return out


def _parse_datetime(args: list[exp.Expression], call: Call) -> exp.Expression:
    pieces = joda_to_strftime(_pattern(args[1], "parse_datetime"))
    if any(p.startswith("\0") for p in pieces):
        raise not_supported("parse_datetime with a zone in the pattern")
    return cast(fn("strptime", args[0], lit("".join(pieces))), "TIMESTAMPTZ")


def _date_format(args: list[exp.Expression], call: Call) -> exp.Expression:
    x, _ = _zoned(args, call, "date_format")
    return fn("strftime", x, lit(mysql_to_strftime(_pattern(args[1], "date_format"))))


def _date_parse(args: list[exp.Expression], call: Call) -> exp.Expression:
    return fn("strptime", args[0], lit(mysql_to_strftime(_pattern(args[1], "date_parse"))))


def _iso_zone(args: list[exp.Expression], types: list[T.TrinoType]) -> str | None:
    text = literal_text(args[0])
    if text is None:
        return None
    text = text.strip()
    if text.endswith(("Z", "z")):
        return UTC
    for sep in ("+", "-"):
        idx = text.rfind(sep)
        if idx > 10:
            return normalize_zone(text[idx:])
    return UTC


def _zone_arg(index: int):
    def rule(args: list[exp.Expression], types: list[T.TrinoType]) -> str | None:
        text = literal_text(args[index]) if len(args) > index else None
        return normalize_zone(text) if text is not None else None

    return rule


def _zone_literal(args: list[exp.Expression], call: Call) -> str:
    zone = call.returns.zone
    if zone is None:
        raise not_supported("A time zone that is not a constant")
    return zone


def _with_timezone(args: list[exp.Expression], call: Call) -> exp.Expression:
    return instant(args[0], _zone_literal(args, call))


def _at_timezone(args: list[exp.Expression], call: Call) -> exp.Expression:
    _zone_literal(args, call)
    return args[0]


def _from_unixtime(args: list[exp.Expression], call: Call) -> exp.Expression:
    if len(args) == 2:
        _zone_literal(args, call)
    return fn("date_trunc", lit("millisecond"), fn("to_timestamp", cast(args[0], "DOUBLE")))


def _to_iso8601(args: list[exp.Expression], call: Call) -> exp.Expression:
    t = call.arg_types[0]
    if t.base == "date":
        return cast(args[0], "VARCHAR")
    x, zone = _zoned(args, call, "to_iso8601")
    fraction = {0: "", 3: ".%g", 6: ".%f"}.get(t.precision, ".%g")
    text = fn("strftime", x, lit("%Y-%m-%dT%H:%M:%S" + fraction))
    if zone is None:
        return text
    suffix = lit("Z") if zone == UTC else offset_text(offset_of(args[0].copy(), zone), ":")
    return exp.DPipe(this=text, expression=suffix, safe=False)


def _timezone_part(part: str):
    def build(args: list[exp.Expression], call: Call) -> exp.Expression:
        zone = require_zone(call.arg_types[0].zone, f"timezone_{part}")
        minutes = offset_of(args[0], zone)
        fixed = offset_minutes(zone)
        if fixed is not None:
            value = int(abs(fixed) / 60) * (1 if fixed >= 0 else -1) if part == "hour" else fixed - int(fixed / 60) * 60
            return cast(lit(value), T.BIGINT)
        if part == "hour":
            return cast(fn("trunc", exp.Div(this=cast(minutes, "DOUBLE"), expression=lit(60))), T.BIGINT)
        return cast(fn("fmod", minutes, lit(60)), T.BIGINT)

    return build


_TEMPORAL = ("date", "timestamp", "timestamptz")
_FIELDS = {
    "year": "year", "quarter": "quarter", "month": "month", "week": "week", "week_of_year": "week",
    "day": "day", "day_of_month": "day", "day_of_week": "isodow", "dow": "isodow", "day_of_year": "dayofyear",
    "doy": "dayofyear", "year_of_week": "isoyear", "yow": "isoyear",
}  # fmt: skip
for _name, _duck in _FIELDS.items():
    define(_name, *(f"{_name}({k}) -> bigint" for k in _TEMPORAL), duck=_field(_name, _duck))
for _name in ("hour", "minute", "second", "millisecond"):
    define(_name, *(f"{_name}({k}) -> bigint" for k in ("timestamp", "timestamptz", "time")), duck=_field(_name, _name))
define("timezone_hour", "timezone_hour(timestamptz) -> bigint", duck=_timezone_part("hour"))
define("timezone_minute", "timezone_minute(timestamptz) -> bigint", duck=_timezone_part("minute"))
define(
    "date_trunc",
    *(f"date_trunc(varchar, {k}) -> arg1" for k in (*_TEMPORAL, "time")),
    duck=_date_trunc,
)
define("date_add", *(f"date_add(varchar, bigint, {k}) -> arg2" for k in (*_TEMPORAL, "time")), duck=_date_add)
define("date_diff", *(f"date_diff(varchar, {k}, {k}) -> bigint" for k in (*_TEMPORAL, "time")), duck=_date_diff)
define("format_datetime", "format_datetime(timestamp, varchar) -> varchar", "format_datetime(timestamptz, varchar) -> varchar",
       duck=_format_datetime)  # fmt: skip
define(
    "parse_datetime",
    signature("parse_datetime(varchar, varchar) -> timestamptz", lambda ts, v: T.timestamp_tz(3, UTC)),
    duck=_parse_datetime,
    zone=lambda args, types: UTC,
)
define("date_format", "date_format(timestamp, varchar) -> varchar", "date_format(timestamptz, varchar) -> varchar",
       duck=_date_format)  # fmt: skip
define(
    "date_parse", signature("date_parse(varchar, varchar) -> timestamp", lambda ts, v: T.timestamp(3)), duck=_date_parse
)
define(
    "from_unixtime",
    signature("from_unixtime(double) -> timestamptz", lambda ts, v: T.timestamp_tz(3)),
    signature("from_unixtime(double, varchar) -> timestamptz", lambda ts, v: T.timestamp_tz(3)),
    duck=_from_unixtime,
    zone=lambda args, types: _zone_arg(1)(args, types) if len(args) > 1 else UTC,
)
define("to_unixtime", "to_unixtime(timestamp) -> double", "to_unixtime(timestamptz) -> double",
       duck=lambda a, c: fn("epoch", a[0]))  # fmt: skip
define(
    "from_iso8601_timestamp",
    signature("from_iso8601_timestamp(varchar) -> timestamptz", lambda ts, v: T.timestamp_tz(3)),
    duck=lambda a, c: fn("date_trunc", lit("millisecond"), cast(a[0], "TIMESTAMPTZ")),
    zone=_iso_zone,
)
define("from_iso8601_date", "from_iso8601_date(varchar) -> date", duck=lambda a, c: cast(a[0], "DATE"))
define("to_iso8601", *(f"to_iso8601({k}) -> varchar" for k in _TEMPORAL), duck=_to_iso8601)
define(
    "at_timezone",
    signature("at_timezone(timestamptz, varchar) -> timestamptz", lambda ts, v: T.timestamp_tz(ts[0].precision)),
    duck=_at_timezone,
    zone=_zone_arg(1),
)
define(
    "with_timezone",
    signature("with_timezone(timestamp, varchar) -> timestamptz", lambda ts, v: T.timestamp_tz(ts[0].precision)),
    duck=_with_timezone,
    zone=_zone_arg(1),
)
define("last_day_of_month", *(f"last_day_of_month({k}) -> date" for k in _TEMPORAL),
       duck=lambda a, c: fn("last_day", _zoned(a, c, "last_day_of_month")[0]))  # fmt: skip
define("date", "date(varchar) -> date", "date(timestamp) -> date", "date(timestamptz) -> date", "date(date) -> date",
       duck=lambda a, c: cast(_zoned(a, c, "date")[0], T.DATE))  # fmt: skip
define("to_milliseconds", "to_milliseconds(interval_ds) -> bigint",
       duck=lambda a, c: cast(fn("round", exp.Mul(this=fn("epoch", a[0]), expression=lit(1000))), T.BIGINT))  # fmt: skip
define("current_timezone", "current_timezone() -> varchar", duck=lambda a, c: lit(UTC))
define(
    "now",
    signature("now() -> timestamptz", lambda ts, v: T.timestamp_tz(3)),
    duck=lambda a, c: fn("date_trunc", lit("millisecond"), fn("get_current_timestamp")),
    zone=lambda args, types: UTC,
)

macro(
    "trino_offset_text",
    "m, sep",
    "CASE WHEN m < 0 THEN '-' ELSE '+' END || lpad(CAST(abs(m) // 60 AS VARCHAR), 2, '0') || sep "
    "|| lpad(CAST(abs(m) % 60 AS VARCHAR), 2, '0')",
)
