"""Arrow (Parquet footer) schema -> Hive/Glue column types, and schema merging.

Why Hive type strings: Glue stores column types as Hive DDL strings and Athena parses them; a
crawler that wrote anything else would produce tables Athena cannot read.
"""

from __future__ import annotations

import pyarrow as pa

Column = dict[str, str]

_NUMERIC_RANK = {"tinyint": 1, "smallint": 2, "int": 3, "bigint": 4, "float": 5, "double": 6}


def hive_type(dtype: pa.DataType) -> str:
    """The Hive type string Glue's crawler records for an Arrow type."""
    t = pa.types
    if isinstance(dtype, pa.DictionaryType):
        return hive_type(dtype.value_type)
    if t.is_boolean(dtype):
        return "boolean"
    if t.is_int8(dtype):
        return "tinyint"
    if t.is_int16(dtype) or t.is_uint8(dtype):
        return "smallint"
    if t.is_int32(dtype) or t.is_uint16(dtype):
        return "int"
    if t.is_int64(dtype) or t.is_uint32(dtype) or t.is_uint64(dtype):
        return "bigint"
    if t.is_float16(dtype) or t.is_float32(dtype):
        return "float"
    if t.is_float64(dtype):
        return "double"
    if t.is_decimal(dtype):
        return f"decimal({dtype.precision},{dtype.scale})"
    if t.is_string(dtype) or t.is_large_string(dtype) or _is(dtype, "is_string_view"):
        return "string"
    if t.is_binary(dtype) or t.is_large_binary(dtype) or t.is_fixed_size_binary(dtype):
        return "binary"
    if _is(dtype, "is_binary_view"):
        return "binary"
    if t.is_timestamp(dtype):
        return "timestamp"
    if t.is_date(dtype):
        return "date"
    if t.is_time(dtype):
        return "bigint"
    if t.is_list(dtype) or t.is_large_list(dtype) or t.is_fixed_size_list(dtype) or _is(dtype, "is_list_view"):
        return f"array<{hive_type(dtype.value_type)}>"
    if t.is_map(dtype):
        return f"map<{hive_type(dtype.key_type)},{hive_type(dtype.item_type)}>"
    if t.is_struct(dtype):
        fields = ",".join(
            f"{dtype.field(i).name.lower()}:{hive_type(dtype.field(i).type)}" for i in range(dtype.num_fields)
        )
        return f"struct<{fields}>"
    if t.is_null(dtype):
        return "string"
    raise ValueError(f"unsupported Parquet/Arrow type {dtype}")


def _is(dtype: pa.DataType, predicate: str) -> bool:
    fn = getattr(pa.types, predicate, None)
    return bool(fn and fn(dtype))


def columns_of(schema: pa.Schema) -> list[Column]:
    """Glue columns (lower-cased names, as the crawler writes them) of an Arrow schema."""
    return [{"Name": field.name.lower(), "Type": hive_type(field.type)} for field in schema]


def widen(a: str, b: str) -> str | None:
    """The type both ``a`` and ``b`` fit in, or None when they conflict."""
    if a == b:
        return a
    if a in _NUMERIC_RANK and b in _NUMERIC_RANK:
        if {a, b} & {"float", "double"} and {a, b} & {"bigint"}:
            return "double"
        return a if _NUMERIC_RANK[a] >= _NUMERIC_RANK[b] else b
    return None


def merge_columns(base: list[Column], extra: list[Column]) -> tuple[list[Column], list[str]]:
    """Union of two column lists, order of first appearance; returns (columns, conflicts)."""
    merged = [dict(c) for c in base]
    index = {c["Name"]: i for i, c in enumerate(merged)}
    conflicts: list[str] = []
    for col in extra:
        i = index.get(col["Name"])
        if i is None:
            index[col["Name"]] = len(merged)
            merged.append(dict(col))
            continue
        wider = widen(merged[i]["Type"], col["Type"])
        if wider is None:
            conflicts.append(f"{col['Name']}: {merged[i]['Type']} vs {col['Type']}")
        else:
            merged[i]["Type"] = wider
    return merged, conflicts


def compatible(a: list[Column], b: list[Column]) -> bool:
    """True when the two schemas merge without a type conflict (CombineCompatibleSchemas)."""
    return not merge_columns(a, b)[1]
