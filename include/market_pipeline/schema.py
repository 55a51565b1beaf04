"""The tick message contract, the fixed Parquet schemas of the raw table and the dead letters, Hive types.

One JSON object per Kafka message, keyed by symbol. Every tick carries the prevailing quote
(bid/ask with sizes) so that `bid <= ask` holds for every row; ``price`` is the trade price for a
trade and the mid price for a quote; ``size`` is the trade size and null for a quote.

Example::

    {"schema_version": 1, "event_type": "trade", "symbol": "AAPL",
     "event_time": "2026-11-25T14:30:00.123456Z", "seq": 1234, "exchange": "XNAS",
     "price": 189.12, "size": 100, "bid": 189.11, "bid_size": 300, "ask": 189.13, "ask_size": 200}

The Parquet schema is never inferred per batch: every file has exactly these columns and types, so
the Glue crawler never sees a schema mismatch. Hive partitions (``dt``, ``hour``) are folder names
(see :mod:`market_pipeline.layout`), not columns in the files.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
EVENT_TYPES = frozenset({"trade", "quote"})
MAX_MESSAGE_BYTES = 4096

# Fields of a message value, in order, with their Arrow types (what the JSON decodes to).
MESSAGE_SCHEMA = pa.schema(
    [
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("event_time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("size", pa.int64(), nullable=True),
        pa.field("bid", pa.float64(), nullable=False),
        pa.field("bid_size", pa.int64(), nullable=False),
        pa.field("ask", pa.float64(), nullable=False),
        pa.field("ask_size", pa.int64(), nullable=False),
    ]
)

# Columns the ingest step adds: where the row came from in Kafka, and when the broker accepted it
# (LogAppendTime). The broker time, not the wall clock of the ingest task, keeps reruns byte-identical.
KAFKA_FIELDS = [
    pa.field("kafka_partition", pa.int32(), nullable=False),
    pa.field("kafka_offset", pa.int64(), nullable=False),
    pa.field("ingested_at", pa.timestamp("ms", tz="UTC"), nullable=False),
]

RAW_TABLE_SCHEMA = pa.schema(
    list(MESSAGE_SCHEMA) + KAFKA_FIELDS,
    metadata={b"stock_market.raw_schema_version": str(SCHEMA_VERSION).encode()},
)

# A message that could not become a row: its bytes, where it was in Kafka, and why (see ingest.decode).
DLQ_SCHEMA = pa.schema(
    [
        pa.field("raw", pa.binary(), nullable=True),
        pa.field("key", pa.binary(), nullable=True),
        pa.field("kafka_partition", pa.int32(), nullable=False),
        pa.field("kafka_offset", pa.int64(), nullable=False),
        pa.field("broker_timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ],
    metadata={b"stock_market.dlq_schema_version": b"1"},
)


def hive_columns(schema: pa.Schema = RAW_TABLE_SCHEMA) -> list[tuple[str, str]]:
    """(name, Hive type) of each column, as Glue and Athena DDL spell them."""
    out = []
    for field in schema:
        t = field.type
        if pa.types.is_int32(t):
            hive = "int"
        elif pa.types.is_int64(t):
            hive = "bigint"
        elif pa.types.is_float64(t):
            hive = "double"
        elif pa.types.is_string(t):
            hive = "string"
        elif pa.types.is_timestamp(t):
            hive = "timestamp"
        else:
            raise TypeError(f"no Hive type for column {field.name} ({t})")
        out.append((field.name, hive))
    return out
