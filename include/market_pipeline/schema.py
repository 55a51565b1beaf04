"""The tick message contract, the fixed Parquet schemas of the raw table and the dead letters, Hive types.

One JSON object per Kafka message, keyed by symbol. Every tick carries the prevailing quote
(bid/ask with sizes) so that `bid <= ask` holds for every row; ``price`` is the trade price for a
trade and the mid price for a quote; ``size`` is the trade size and absent or null for a quote.

Example::

    {"schema_version": 1, "event_type": "trade", "symbol": "AAPL",
     "event_time": "2026-11-25T14:30:00.123456Z", "seq": 1234, "exchange": "XNAS",
     "price": 189.12, "size": 100, "bid": 189.11, "bid_size": 300, "ask": 189.13, "ask_size": 200}

**The contract (v1, strict).** :data:`CONTRACT_RULES` lists every rule in the order the decoder
(:mod:`market_pipeline.ingest.decode`) applies them; the first rule a message breaks is its dead-letter
reason, ``<rule>`` or ``<rule>:<field>``. The README's contract table is rendered from it
(:func:`contract_table_markdown`; a test keeps them equal). Event time is bounded on both sides: not
before a floor far in the past (replays of historical prices work) and not after the broker's append
time plus a small skew (a tick cannot come from the future, and one tick dated 2100 cannot make an
interval look fresh forever). Both bounds are settings (:class:`TickContract`).

The Parquet schema is never inferred per batch: every file has exactly these columns and types, so
the Glue crawler never sees a schema mismatch. Hive partitions (``dt``, ``hour``) are folder names
(see :mod:`market_pipeline.layout`), not columns in the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from market_pipeline.settings import PipelineSettings

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
EVENT_TYPES = frozenset({"trade", "quote"})

# -- the contract's limits ------------------------------------------------------------------------
MAX_MESSAGE_BYTES = 4096
MAX_NESTING = 8  # JSON nesting depth (a valid tick has 1); checked before anything parses the message
MAX_PRICE = 10_000_000.0
MAX_SIZE = 1_000_000_000
# Default event-time bounds; the settings PIPELINE_EVENT_TIME_FLOOR and
# PIPELINE_MAX_EVENT_TIME_SKEW_SECONDS override them (market_pipeline.settings states the same defaults).
EVENT_TIME_FLOOR = datetime(1990, 1, 1, tzinfo=UTC)
MAX_EVENT_TIME_SKEW = timedelta(seconds=300)
# Patterns (ASCII only; written for Python's re and RE2 alike: no \d, whole-string matches).
SYMBOL_PATTERN = r"[A-Z0-9^][A-Z0-9.^=_-]{0,15}"  # AAPL, BRK.B, BF-B, ^GSPC, 000001.SS, EURUSD=X
EXCHANGE_PATTERN = r"[A-Z0-9]{2,10}"  # MIC codes such as XNAS
# RFC 3339 date-time with a zone designator, at most microseconds; the decoder checks the calendar.
EVENT_TIME_PATTERN = (
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)

# Message-level reasons (no field).
NULL_VALUE = "null_value"
OVERSIZED = "oversized"
EMPTY_MESSAGE = "empty_message"
NOT_UTF8 = "not_utf8"
TOO_DEEP = "too_deep"
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
DECODER_CRASH = "decoder_crash"
MESSAGE_REASONS = (NULL_VALUE, OVERSIZED, EMPTY_MESSAGE, NOT_UTF8, TOO_DEEP, INVALID_JSON, NOT_AN_OBJECT, DECODER_CRASH)
# Field rules: the reason is "<rule>:<field>".
FIELD_RULES = (
    "unexpected_field",
    "duplicate_field",
    "missing_field",
    "null_field",
    "wrong_type",
    "unsupported",
    "unknown",
    "invalid",
    "invalid_timestamp",
    "too_old",
    "in_future",
    "out_of_range",
    "bid_above_ask",
    "not_allowed",
)


@dataclass(frozen=True)
class TickContract:
    """The contract's two settings: how old and how far ahead of the broker's clock a tick may be."""

    event_time_floor: datetime = EVENT_TIME_FLOOR
    max_event_time_skew: timedelta = MAX_EVENT_TIME_SKEW

    def __post_init__(self) -> None:
        if self.event_time_floor.tzinfo is None:
            raise ValueError("the event-time floor must be timezone-aware")
        if self.max_event_time_skew < timedelta(0):
            raise ValueError("the maximum event-time skew must not be negative")

    @property
    def floor_us(self) -> int:
        """The floor in microseconds since the epoch (event_time's unit)."""
        return (self.event_time_floor - _EPOCH) // timedelta(microseconds=1)

    @property
    def skew_us(self) -> int:
        return self.max_event_time_skew // timedelta(microseconds=1)

    @classmethod
    def from_settings(cls, settings: PipelineSettings) -> TickContract:
        return cls(settings.event_time_floor, timedelta(seconds=settings.max_event_time_skew_seconds))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ContractRule:
    """One row of the contract: where it applies, what it demands, and the dead-letter reason."""

    scope: str  # "message" or a field description
    rule: str
    reason: str


CONTRACT_RULES: tuple[ContractRule, ...] = (
    ContractRule("message", "a value (not a tombstone)", "`null_value`"),
    ContractRule("message", f"at most {MAX_MESSAGE_BYTES} bytes", "`oversized`"),
    ContractRule("message", "not empty and not only JSON whitespace", "`empty_message`"),
    ContractRule("message", "UTF-8", "`not_utf8`"),
    ContractRule(
        "message",
        f"nesting depth at most {MAX_NESTING}, measured on the text before anything parses it",
        "`too_deep`",
    ),
    ContractRule(
        "message",
        "one JSON document (RFC 8259: no BOM, no NaN/Infinity, no trailing data)",
        "`invalid_json`",
    ),
    ContractRule("message", "the top level is an object", "`not_an_object`"),
    ContractRule(
        "message", "the decoder failed on it (a defect: the message is kept, the window goes on)", "`decoder_crash`"
    ),
    ContractRule(
        "any field", "one of the 12 contract fields (first unknown name in the document)", "`unexpected_field:<name>`"
    ),
    ContractRule("any field", "no field twice", "`duplicate_field:<name>`"),
    ContractRule("every field but `size`", "present", "`missing_field:<name>`"),
    ContractRule("every field but `size`", "not null", "`null_field:<name>`"),
    ContractRule(
        "any field",
        "JSON type as declared: integers are JSON integers inside the Arrow type (int32/int64; no bool, "
        "no fraction or exponent); prices are JSON numbers; text is a JSON string",
        "`wrong_type:<name>`",
    ),
    ContractRule(
        "`schema_version`",
        "a supported version: " + ", ".join(map(str, sorted(SUPPORTED_SCHEMA_VERSIONS))),
        "`unsupported:schema_version`",
    ),
    ContractRule(
        "`event_type`", " or ".join(f"`{t}`" for t in sorted(EVENT_TYPES, reverse=True)), "`unknown:event_type`"
    ),
    ContractRule("`symbol`", f"matches `^{SYMBOL_PATTERN}$` (uppercase, 1-16 characters)", "`invalid:symbol`"),
    ContractRule("`exchange`", f"matches `^{EXCHANGE_PATTERN}$` (a MIC such as XNAS)", "`invalid:exchange`"),
    ContractRule(
        "`event_time`",
        "RFC 3339 date-time with a zone (`Z` or `±hh:mm`), at most microseconds, a real calendar date "
        "and time (no leap second); date-only or zone-less values are rejected",
        "`invalid_timestamp:event_time`",
    ),
    ContractRule(
        "`event_time`",
        "not before the floor (default 1990-01-01T00:00:00Z, `PIPELINE_EVENT_TIME_FLOOR`)",
        "`too_old:event_time`",
    ),
    ContractRule(
        "`event_time`",
        "not after the message's broker append time + the skew (default 300 s, "
        "`PIPELINE_MAX_EVENT_TIME_SKEW_SECONDS`): a tick cannot come from the future",
        "`in_future:event_time`",
    ),
    ContractRule("`seq`", "0 <= seq", "`out_of_range:seq`"),
    ContractRule("`price`, `bid`, `ask`", f"finite, > 0 and <= {MAX_PRICE:,.0f}", "`out_of_range:<name>`"),
    ContractRule("`bid`, `ask`", "bid <= ask", "`bid_above_ask:bid`"),
    ContractRule(
        "`size`",
        f"trade: present and not null, 1 <= size <= {MAX_SIZE:,}",
        "`missing_field:size` / `out_of_range:size`",
    ),
    ContractRule("`size`", "quote: absent or null (a quote carries no trade size)", "`not_allowed:size`"),
    ContractRule("`bid_size`, `ask_size`", f"0 <= value <= {MAX_SIZE:,}", "`out_of_range:<name>`"),
)


def contract_table_markdown() -> str:
    """The contract as the README's Markdown table (the README must contain exactly this)."""
    lines = ["| applies to | rule | dead-letter reason |", "|---|---|---|"]
    lines += [f"| {r.scope} | {r.rule} | {r.reason} |" for r in CONTRACT_RULES]
    return "\n".join(lines)


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
