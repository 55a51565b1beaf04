"""Trino's types as the analyzer infers them: the model, how Trino and Hive spell them, and their DuckDB form.

A :class:`TrinoType` is a base name plus parameters (``decimal(12,2)``, ``varchar(3)``,
``array(varchar)``, ``row(exchange varchar, year integer)``, ``timestamp(3) with time zone``).
``display()`` is Trino's text (``typeof``), ``column_info()`` what Athena's ColumnInfo reports and
``duckdb()`` the physical type values have on the DuckDB side.

A ``timestamp with time zone`` also carries, outside its identity, the zone its values are in when the
analysis can tell (``TIMESTAMP '... UTC'``, ``AT TIME ZONE 'America/New_York'``): DuckDB keeps only the
instant, so the zone travels with the expression (see ``analysis`` and ``results``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

INTEGRAL = ("tinyint", "smallint", "integer", "bigint")
INTEGRAL_DIGITS = {"tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19}
INTEGRAL_RANGE = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
TZ = "timestamp with time zone"
INTERVAL_DS = "interval day to second"
INTERVAL_YM = "interval year to month"
UNBOUNDED = 2147483647
MAX_DECIMAL = 38


@dataclass(frozen=True)
class TrinoType:
    """One Trino type. ``args`` by base: decimal (p, s); varchar () or (n,); char (n,); time, timestamp and
    timestamp with time zone (p,); array (element,); map (key, value); row ((name or None, type), ...);
    function (return, param types...) for lambdas."""

    base: str
    args: tuple[Any, ...] = ()
    zone: str | None = field(default=None, compare=False, hash=False)

    # ------------------------------------------------------------------ kinds
    @property
    def is_integral(self) -> bool:
        return self.base in INTEGRAL

    @property
    def is_decimal(self) -> bool:
        return self.base == "decimal"

    @property
    def is_exact(self) -> bool:
        return self.base in INTEGRAL or self.base == "decimal"

    @property
    def is_numeric(self) -> bool:
        return self.base in INTEGRAL or self.base in ("decimal", "real", "double")

    @property
    def is_string(self) -> bool:
        return self.base in ("varchar", "char")

    @property
    def is_unknown(self) -> bool:
        return self.base == "unknown"

    @property
    def is_temporal(self) -> bool:
        return self.base in ("date", "time", "timestamp", TZ)

    @property
    def precision(self) -> int:
        return int(self.args[0]) if self.args else 0

    @property
    def scale(self) -> int:
        return int(self.args[1]) if self.base == "decimal" else 0

    @property
    def element(self) -> TrinoType:
        return self.args[0]

    @property
    def key(self) -> TrinoType:
        return self.args[0]

    @property
    def value(self) -> TrinoType:
        return self.args[1]

    @property
    def fields(self) -> tuple[tuple[str | None, TrinoType], ...]:
        return self.args

    def __deepcopy__(self, memo: dict[int, Any]) -> TrinoType:  # immutable
        return self

    def children(self) -> list[TrinoType]:
        """The element types of a container (array: element; map: key, value; row: the fields)."""
        if self.base == "array":
            return [self.args[0]]
        if self.base == "map":
            return [self.args[0], self.args[1]]
        if self.base == "row":
            return [ft for _, ft in self.args]
        return []

    def with_zone(self, zone: str | None) -> TrinoType:
        return replace(self, zone=zone)

    # ------------------------------------------------------------------ spelling
    def display(self) -> str:
        """Trino's text of the type, as ``typeof`` prints it."""
        b, a = self.base, self.args
        if b == "decimal":
            return f"decimal({a[0]},{a[1]})"
        if b in ("varchar", "char"):
            return f"{b}({a[0]})" if a else b
        if b in ("time", "timestamp"):
            return f"{b}({a[0]})"
        if b == TZ:
            return f"timestamp({a[0]}) with time zone"
        if b == "array":
            return f"array({a[0].display()})"
        if b == "map":
            return f"map({a[0].display()}, {a[1].display()})"
        if b == "row":
            return "row(" + ", ".join(f"{n} {t.display()}" if n else t.display() for n, t in a) + ")"
        if b == "function":
            return "function(" + ", ".join(t.display() for t in (*a[1:], a[0])) + ")"
        return b

    __str__ = display

    def column_info(self) -> tuple[str, int, int]:
        """(Type, Precision, Scale) as Athena's ColumnInfo reports this type."""
        b = self.base
        if b == "decimal":
            return b, self.args[0], self.args[1]
        if b in ("varchar", "char"):
            return b, int(self.args[0]) if self.args else UNBOUNDED, 0
        if b in ("time", "timestamp", TZ):
            return b, self.precision, 0
        if b in INTEGRAL:
            return b, INTEGRAL_DIGITS[b], 0
        return b, {"real": 9, "double": 17, "varbinary": 1073741824, "json": UNBOUNDED}.get(b, 0), 0

    def duckdb(self) -> str:
        """The DuckDB type values of this type are held in."""
        b, a = self.base, self.args
        if b in _DUCK_SIMPLE:
            return _DUCK_SIMPLE[b]
        if b == "decimal":
            return f"DECIMAL({a[0]},{a[1]})"
        if b == "array":
            return f"{a[0].duckdb()}[]"
        if b == "map":
            return f"MAP({a[0].duckdb()}, {a[1].duckdb()})"
        if b == "row":
            parts = (f'"{(n or f"field{i}").replace(chr(34), chr(34) * 2)}" {t.duckdb()}' for i, (n, t) in enumerate(a))
            return "STRUCT(" + ", ".join(parts) + ")"
        raise ValueError(f"no DuckDB type for {self.display()}")

    def datatype(self) -> exp.DataType:
        """The DuckDB type as a sqlglot node (for casts in translated SQL)."""
        return exp.DataType.build(self.duckdb(), dialect="duckdb")


_DUCK_SIMPLE = {
    "boolean": "BOOLEAN",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "real": "FLOAT",
    "double": "DOUBLE",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "varbinary": "BLOB",
    "json": "JSON",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    TZ: "TIMESTAMPTZ",
    INTERVAL_DS: "INTERVAL",
    INTERVAL_YM: "INTERVAL",
    "uuid": "UUID",
    "unknown": "INTEGER",
}


# ---------------------------------------------------------------------- constructors


def simple(base: str) -> TrinoType:
    return TrinoType(base)


BOOLEAN = TrinoType("boolean")
TINYINT = TrinoType("tinyint")
SMALLINT = TrinoType("smallint")
INTEGER = TrinoType("integer")
BIGINT = TrinoType("bigint")
REAL = TrinoType("real")
DOUBLE = TrinoType("double")
VARCHAR = TrinoType("varchar")
VARBINARY = TrinoType("varbinary")
JSON = TrinoType("json")
DATE = TrinoType("date")
UNKNOWN = TrinoType("unknown")
INTERVAL_DAY_SECOND = TrinoType(INTERVAL_DS)
INTERVAL_YEAR_MONTH = TrinoType(INTERVAL_YM)
UUID = TrinoType("uuid")


def decimal(precision: int, scale: int) -> TrinoType:
    return TrinoType("decimal", (precision, scale))


def varchar(length: int | None = None) -> TrinoType:
    return TrinoType("varchar", () if length is None else (length,))


def char(length: int) -> TrinoType:
    return TrinoType("char", (length,))


def timestamp(precision: int = 3) -> TrinoType:
    return TrinoType("timestamp", (precision,))


def timestamp_tz(precision: int = 3, zone: str | None = None) -> TrinoType:
    return TrinoType(TZ, (precision,), zone)


def time(precision: int = 3) -> TrinoType:
    return TrinoType("time", (precision,))


def array(element: TrinoType) -> TrinoType:
    return TrinoType("array", (element,))


def map_of(key: TrinoType, value: TrinoType) -> TrinoType:
    return TrinoType("map", (key, value))


def row(fields: list[tuple[str | None, TrinoType]] | tuple[tuple[str | None, TrinoType], ...]) -> TrinoType:
    return TrinoType("row", tuple(fields))


def function(returns: TrinoType, *params: TrinoType) -> TrinoType:
    return TrinoType("function", (returns, *params))


def decimal_of(t: TrinoType) -> TrinoType:
    """The decimal an exact number coerces to (integer -> decimal(10,0))."""
    if t.is_decimal:
        return t
    return decimal(INTEGRAL_DIGITS[t.base], 0)


# ---------------------------------------------------------------------- from SQL type names

_FROM_DTYPE = {
    exp.DType.BOOLEAN: BOOLEAN,
    exp.DType.TINYINT: TINYINT,
    exp.DType.SMALLINT: SMALLINT,
    exp.DType.INT: INTEGER,
    exp.DType.BIGINT: BIGINT,
    exp.DType.FLOAT: REAL,
    exp.DType.DOUBLE: DOUBLE,
    exp.DType.VARBINARY: VARBINARY,
    exp.DType.BINARY: VARBINARY,
    exp.DType.JSON: JSON,
    exp.DType.DATE: DATE,
    exp.DType.UUID: UUID,
}


class UnknownType(ValueError):
    """A type name Trino does not know (the caller reports it in Athena's words)."""


def _params(dt: exp.DataType) -> list[int]:
    out = []
    for p in dt.expressions:
        node = p.this if isinstance(p, exp.DataTypeParam) else p
        out.append(int(node.name))
    return out


def from_datatype(dt: exp.DataType, hive: bool = False) -> TrinoType:
    """A Trino type from a parsed type name (``hive``: Glue/Hive defaults, e.g. ``decimal`` is (10,0))."""
    kind = dt.this
    if kind in _FROM_DTYPE:
        return _FROM_DTYPE[kind]
    nested = kind in (exp.DType.ARRAY, exp.DType.MAP, exp.DType.STRUCT)
    if nested and len(dt.expressions) < (2 if kind == exp.DType.MAP else 1):
        raise UnknownType(dt.sql(dialect="trino"))
    try:
        params = [] if nested else _params(dt)
    except (ValueError, AttributeError) as err:
        raise UnknownType(dt.sql(dialect="trino")) from err
    if kind == exp.DType.DECIMAL:
        if not params:
            return decimal(10, 0) if hive else decimal(38, 0)
        return decimal(params[0], params[1] if len(params) > 1 else 0)
    if kind in (exp.DType.VARCHAR, exp.DType.TEXT, exp.DType.NVARCHAR):
        return varchar(params[0] if params else None)
    if kind in (exp.DType.CHAR, exp.DType.NCHAR):
        return char(params[0] if params else 1)
    if kind == exp.DType.TIMESTAMP:
        return timestamp(params[0] if params else 3)
    if kind in (exp.DType.TIMESTAMPTZ, exp.DType.TIMESTAMPLTZ):
        return timestamp_tz(params[0] if params else 3)
    if kind == exp.DType.TIME:
        return time(params[0] if params else 3)
    if kind == exp.DType.ARRAY:
        return array(from_datatype(dt.expressions[0], hive))
    if kind == exp.DType.MAP:
        return map_of(from_datatype(dt.expressions[0], hive), from_datatype(dt.expressions[1], hive))
    if kind == exp.DType.STRUCT:
        fields: list[tuple[str | None, TrinoType]] = []
        for item in dt.expressions:
            if isinstance(item, exp.ColumnDef):
                fields.append((item.name.lower(), from_datatype(item.args["kind"], hive)))
            elif isinstance(item, exp.DataType):
                fields.append((None, from_datatype(item, hive)))
            else:
                raise UnknownType(item.sql())
        return row(fields)
    if isinstance(kind, exp.Interval):
        unit = kind.args.get("unit")
        first = (unit.this.name if isinstance(unit, exp.IntervalSpan) else unit.name if unit else "").upper()
        return INTERVAL_YEAR_MONTH if first in ("YEAR", "MONTH") else INTERVAL_DAY_SECOND
    raise UnknownType(dt.sql(dialect="trino"))


def parse_hive(text: str) -> TrinoType:
    """The Trino type of a Glue column type string (Hive DDL: ``string``, ``array<int>``, ``struct<a:int>``)."""
    t = text.strip().lower()
    simple_types = {"string": VARCHAR, "int": INTEGER, "integer": INTEGER, "float": REAL, "binary": VARBINARY}
    if t in simple_types:
        return simple_types[t]
    try:
        return from_datatype(exp.DataType.build(t, dialect="hive"), hive=True)
    except (UnknownType, ValueError, Exception) as err:
        raise UnknownType(text) from err


def parse_trino(text: str) -> TrinoType:
    """A Trino type from its SQL spelling (``decimal(5,2)``, ``array(varchar)``)."""
    return from_datatype(exp.DataType.build(text, dialect="trino"))


def hive_name(t: TrinoType) -> str:
    """How Glue records a column of this type (CTAS and views), in Hive's DDL spelling."""
    b = t.base
    names = {"varchar": "string", "integer": "int", "real": "float", "varbinary": "binary", "timestamp": "timestamp"}
    if b in names and not (b == "varchar" and t.args):
        return names[b]
    if b in ("varchar", "char"):
        return f"{b}({t.args[0]})"
    if b == "decimal":
        return f"decimal({t.args[0]},{t.args[1]})"
    if b == "array":
        return f"array<{hive_name(t.element)}>"
    if b == "map":
        return f"map<{hive_name(t.key)},{hive_name(t.value)}>"
    if b == "row":
        return "struct<" + ",".join(f"{n or f'field{i}'}:{hive_name(ft)}" for i, (n, ft) in enumerate(t.fields)) + ">"
    return b
