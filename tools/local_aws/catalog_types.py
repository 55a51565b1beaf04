"""How the Glue catalog describes Parquet data: the storage descriptor and the Arrow -> Hive type map.

Why one module: the crawler (``glue``) and Athena's CTAS and CREATE TABLE (``athena``) both register
Parquet tables, and Athena reads whatever either wrote. Glue stores column types as Hive DDL strings
that Athena parses, so both must spell formats and types the same way.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

Column = dict[str, str]  # {"Name": ..., "Type": <Hive type string>}

PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def parquet_format() -> dict[str, Any]:
    """The storage-descriptor fields that say "Parquet" (a fresh dict: callers may extend it)."""
    return {
        "InputFormat": PARQUET_INPUT_FORMAT,
        "OutputFormat": PARQUET_OUTPUT_FORMAT,
        "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
    }


def parquet_storage_descriptor(columns: list[Column], location: str, parameters: dict[str, str]) -> dict[str, Any]:
    """A complete Parquet storage descriptor, as Glue's crawler writes it for tables and partitions."""
    return {
        "Columns": [dict(c) for c in columns],
        "Location": location,
        **parquet_format(),
        "Compressed": False,
        "NumberOfBuckets": -1,
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": dict(parameters),
        "StoredAsSubDirectories": False,
    }


def hive_type(dtype: pa.DataType) -> str:
    """The Hive type string Glue records for an Arrow (Parquet) type; ValueError when Hive has none."""
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
    if t.is_string(dtype) or t.is_large_string(dtype) or t.is_string_view(dtype):
        return "string"
    if t.is_binary(dtype) or t.is_large_binary(dtype) or t.is_fixed_size_binary(dtype) or t.is_binary_view(dtype):
        return "binary"
    if t.is_timestamp(dtype):
        return "timestamp"
    if t.is_date(dtype):
        return "date"
    if t.is_time(dtype):
        return "bigint"
    if t.is_list(dtype) or t.is_large_list(dtype) or t.is_fixed_size_list(dtype) or t.is_list_view(dtype):
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


def columns_of(schema: pa.Schema) -> list[Column]:
    """Glue columns (lower-cased names, as the crawler writes them) of an Arrow schema."""
    return [{"Name": field.name.lower(), "Type": hive_type(field.type)} for field in schema]
