"""Decode a batch of Kafka message values into raw-table rows and dead letters, whatever the bytes.

Two decoders, one result. Nothing is dropped and nothing raises: every message becomes either a row or
a dead-letter record carrying its raw bytes, partition, offset, broker timestamp and the reason (the
first rule of the contract in :mod:`market_pipeline.schema` it breaks).

- **The Python decoder** (:func:`check_message`) is the reference. Per message: the message-level rules
  in contract order, the nesting depth measured on the text *before* ``json.loads`` runs (it raises
  RecursionError on deep nesting), strict JSON (no NaN/Infinity, no BOM), then the field rules. Every
  dead-letter reason comes from it.
- **The fast path** is an optimisation that may only say "accepted, with these values". At hundreds of
  thousands of ticks per second a Python loop per message is the bottleneck, so the values are joined
  with newlines and parsed by Arrow's JSON reader (native, multi-threaded, explicit schema), then
  checked against the contract with vectorised compute. Arrow's reader crashes the process on some
  inputs (a top-level ``null``, pyarrow 26), so it only ever sees values that are structurally one flat
  JSON object: first byte ``{``, last byte ``}``, no other brace, no bracket, backslash, line break,
  NUL or non-ASCII byte. Every contract-valid tick a producer writes compactly has that shape (the
  contract's text fields are ASCII without escapes). Whatever the fast path does not accept, for any
  reason, goes to the Python decoder, so the fast path can be conservative but never decides a reason.

:data:`DecodeMode.SAFE` decodes every message with the Python decoder alone: no native parser at all,
several times slower, the **same rows, reasons and Parquet bytes** (tests prove it on a corpus and by
fuzzing). The ingest uses it for a window whose previous attempt died without a manifest (see
:mod:`market_pipeline.ingest.attempts`), so one native crash cannot block a window forever.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from market_pipeline.ingest.kafka_window import Chunk
from market_pipeline.schema import (
    DECODER_CRASH,
    DLQ_SCHEMA,
    EMPTY_MESSAGE,
    EVENT_TIME_PATTERN,
    EVENT_TYPES,
    EXCHANGE_PATTERN,
    INVALID_JSON,
    MAX_MESSAGE_BYTES,
    MAX_NESTING,
    MAX_PRICE,
    MAX_SIZE,
    MESSAGE_SCHEMA,
    NOT_AN_OBJECT,
    NOT_UTF8,
    NULL_VALUE,
    OVERSIZED,
    RAW_TABLE_SCHEMA,
    SUPPORTED_SCHEMA_VERSIONS,
    SYMBOL_PATTERN,
    TOO_DEEP,
    TickContract,
)

log = logging.getLogger(__name__)

DEFAULT_CONTRACT = TickContract()

# Test-only fault injection (tests/.../test_native_crash.py): when this variable holds a byte string,
# the fast path kills its own process with SIGSEGV, as a native parser bug would, on a batch containing
# it. The Python decoder ignores it. Unset in every deployment; reading it costs one dict lookup.
CRASH_MARKER_ENV = "PIPELINE_TEST_NATIVE_CRASH_MARKER"


class DecodeMode(StrEnum):
    FAST = "fast"  # native JSON reader for flat objects, the Python decoder for everything else
    SAFE = "safe"  # the Python decoder for every message (retry after a crashed attempt)


@dataclass(frozen=True)
class Decoded:
    """Accepted rows (RAW_TABLE_SCHEMA, offset order) and dead-letter records (DLQ_SCHEMA)."""

    rows: pa.Table
    dlq: pa.Table


def decode_batch(
    batch: Chunk, contract: TickContract = DEFAULT_CONTRACT, mode: DecodeMode = DecodeMode.FAST
) -> Decoded:
    """Decode and check one batch; bad messages go to the DLQ table with the contract's reason."""
    n = len(batch)
    if n == 0:
        return Decoded(RAW_TABLE_SCHEMA.empty_table(), DLQ_SCHEMA.empty_table())
    values, stamps = batch.values, batch.timestamps_ms
    fast_table, fast_pos = _EMPTY_MESSAGES, np.empty(0, dtype=np.int64)
    if mode is DecodeMode.FAST:
        try:
            fast_table, fast_pos = _fast_accept(values, stamps, contract)
        except Exception:  # a defect here must not stop the window: the Python decoder decides everything
            log.exception("the fast decoder failed on a batch of %d messages; decoding it message by message", n)
            fast_table, fast_pos = _EMPTY_MESSAGES, np.empty(0, dtype=np.int64)

    bad: dict[int, str] = {}
    if len(fast_pos) == n:
        table, positions = fast_table, fast_pos
    else:
        accepted = np.zeros(n, dtype=bool)
        accepted[fast_pos] = True
        slow_rows: list[tuple] = []
        slow_pos: list[int] = []
        for i in np.flatnonzero(~accepted).tolist():
            outcome = _check_or_crash(values[i], int(stamps[i]), contract)
            if isinstance(outcome, str):
                bad[i] = outcome
            else:
                slow_rows.append(outcome)
                slow_pos.append(i)
        table, positions = _merge(fast_table, fast_pos, slow_rows, slow_pos)

    rows = pa.Table.from_arrays(
        [
            *(column.combine_chunks() for column in table.columns),
            pa.array(np.full(len(positions), batch.partition, dtype=np.int32)),
            pa.array(batch.offsets[positions], type=pa.int64()),
            pa.array(stamps[positions], type=pa.timestamp("ms", tz="UTC")),
        ],
        schema=RAW_TABLE_SCHEMA,
    )
    return Decoded(rows, _dlq_table(batch, bad))


# -- the Python decoder (the reference) -------------------------------------------------------------

FIELDS = tuple(f.name for f in MESSAGE_SCHEMA)
_TYPES = {f.name: f.type for f in MESSAGE_SCHEMA}
_REQUIRED = tuple(f.name for f in MESSAGE_SCHEMA if not f.nullable)
_INT_RANGES = {
    f.name: (int(np.iinfo(f.type.to_pandas_dtype()).min), int(np.iinfo(f.type.to_pandas_dtype()).max))
    for f in MESSAGE_SCHEMA
    if pa.types.is_integer(f.type)
}
_FLOATS = frozenset(f.name for f in MESSAGE_SCHEMA if pa.types.is_floating(f.type))
_JSON_WHITESPACE = b" \t\r\n"
_SYMBOL = re.compile(SYMBOL_PATTERN)
_EXCHANGE = re.compile(EXCHANGE_PATTERN)
_EVENT_TIME = re.compile(EVENT_TIME_PATTERN)
# A JSON string (possibly unterminated at the end of the text) or a bracket: enough to measure nesting
# on text that is not known to be JSON yet, without a recursive parser.
_DEPTH_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
_US_PER_DAY = 86_400_000_000


class _Object(list):
    """A JSON object as its (name, value) pairs in document order, so duplicates stay visible."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


_JSON = json.JSONDecoder(object_pairs_hook=_Object, parse_constant=_reject_constant)


def check_message(
    value: bytes | None, broker_timestamp_ms: int, contract: TickContract = DEFAULT_CONTRACT
) -> str | tuple:
    """The contract's verdict on one message: its dead-letter reason, or its row (MESSAGE_SCHEMA order,
    event_time in microseconds since the epoch). Raises only on a defect of this function."""
    if value is None:
        return NULL_VALUE
    if len(value) > MAX_MESSAGE_BYTES:
        return OVERSIZED
    if not value.strip(_JSON_WHITESPACE):
        return EMPTY_MESSAGE
    try:
        text = bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    if _too_deep(text):
        return TOO_DEEP
    try:
        doc = _JSON.decode(text)
    except ValueError:  # JSONDecodeError, a rejected constant
        return INVALID_JSON
    if not isinstance(doc, _Object):
        return NOT_AN_OBJECT
    return _check_fields(doc, broker_timestamp_ms, contract)


def _too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_NESTING:  # cannot be deeper: the usual case, cheap
        return False
    depth = deepest = 0
    for token in _DEPTH_TOKENS.findall(text):
        first = token[0]
        if first == "[" or first == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif first == "]" or first == "}":
            depth -= 1
    return deepest > MAX_NESTING


def _check_fields(pairs: _Object, broker_timestamp_ms: int, contract: TickContract) -> str | tuple:
    names = [name for name, _ in pairs]
    for name in names:
        if name not in _TYPES:
            return f"unexpected_field:{_label(name)}"
    if len(set(names)) != len(names):
        seen: set[str] = set()
        for name in names:
            if name in seen:
                return f"duplicate_field:{name}"
            seen.add(name)
    doc = dict(pairs)
    for name in _REQUIRED:
        if name not in doc:
            return f"missing_field:{name}"
    for name in _REQUIRED:
        if doc[name] is None:
            return f"null_field:{name}"
    for name in FIELDS:
        value = doc.get(name)
        if value is not None and not _type_ok(name, value):
            return f"wrong_type:{name}"

    if doc["schema_version"] not in SUPPORTED_SCHEMA_VERSIONS:
        return "unsupported:schema_version"
    if doc["event_type"] not in EVENT_TYPES:
        return "unknown:event_type"
    if not _SYMBOL.fullmatch(doc["symbol"]):
        return "invalid:symbol"
    if not _EXCHANGE.fullmatch(doc["exchange"]):
        return "invalid:exchange"
    event_us = event_time_us(doc["event_time"])
    if event_us is None:
        return "invalid_timestamp:event_time"
    if event_us < contract.floor_us:
        return "too_old:event_time"
    if event_us > broker_timestamp_ms * 1000 + contract.skew_us:
        return "in_future:event_time"
    if doc["seq"] < 0:
        return "out_of_range:seq"
    prices = {}
    for name in ("price", "bid", "ask"):
        number = _as_float(doc[name])
        if not 0.0 < number <= MAX_PRICE:  # also false for NaN; infinity is above the maximum
            return f"out_of_range:{name}"
        prices[name] = number
    if prices["bid"] > prices["ask"]:
        return "bid_above_ask:bid"
    size = doc.get("size")
    if doc["event_type"] == "trade":
        if size is None:
            return "missing_field:size"
        if not 1 <= size <= MAX_SIZE:
            return "out_of_range:size"
    elif size is not None:
        return "not_allowed:size"
    for name in ("bid_size", "ask_size"):
        if not 0 <= doc[name] <= MAX_SIZE:
            return f"out_of_range:{name}"
    return (
        doc["schema_version"],
        doc["event_type"],
        doc["symbol"],
        event_us,
        doc["seq"],
        doc["exchange"],
        prices["price"],
        size,
        prices["bid"],
        doc["bid_size"],
        prices["ask"],
        doc["ask_size"],
    )


def _type_ok(name: str, value: object) -> bool:
    kind = type(value)  # not isinstance: bool is an int subclass, and JSON true is not a number
    if name in _INT_RANGES:
        low, high = _INT_RANGES[name]
        return kind is int and low <= value <= high  # type: ignore[operator]
    if name in _FLOATS:
        return kind is int or kind is float
    return kind is str


def _as_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer literal beyond the double range: Arrow reads it as infinite too
        return float("inf") if value > 0 else float("-inf")


def event_time_us(text: str) -> int | None:
    """Microseconds since the epoch of an RFC 3339 date-time with a zone, or None if it is not one."""
    match = _EVENT_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset_s = 0
    if match["sign"] is not None:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > 23 or off_minute > 59:
            return None
        offset_s = (off_hour * 3600 + off_minute * 60) * (1 if match["sign"] == "+" else -1)
    fraction = match["fraction"] or ""
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    seconds = hour * 3600 + minute * 60 + second - offset_s
    return _days_from_civil(year, month, day) * _US_PER_DAY + seconds * 1_000_000 + micros


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm; year 0 works)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _label(name: str) -> str:
    """A field name fit for a reason: printable, at most 64 characters."""
    text = name if name.isprintable() else name.encode("unicode_escape").decode("ascii")
    if not text:
        return '""'
    return text if len(text) <= 64 else text[:61] + "..."


def _check_or_crash(value: bytes | None, broker_timestamp_ms: int, contract: TickContract) -> str | tuple:
    try:
        return check_message(value, broker_timestamp_ms, contract)
    except Exception:  # a defect: keep the message (its bytes go to the DLQ) and go on with the window
        log.exception("the decoder failed on a message; it is dead-lettered as %s", DECODER_CRASH)
        return DECODER_CRASH


def _merge(
    fast_table: pa.Table, fast_pos: np.ndarray, slow_rows: list[tuple], slow_pos: list[int]
) -> tuple[pa.Table, np.ndarray]:
    """Rows from both decoders, in offset (batch) order."""
    if not slow_rows:
        return fast_table, fast_pos
    slow = pa.Table.from_arrays(
        [
            pa.array(column, type=field.type)
            for column, field in zip(zip(*slow_rows, strict=True), MESSAGE_SCHEMA, strict=True)
        ],
        schema=MESSAGE_SCHEMA,
    )
    if fast_table.num_rows == 0:
        return slow, np.asarray(slow_pos, dtype=np.int64)
    positions = np.concatenate([fast_pos, np.asarray(slow_pos, dtype=np.int64)])
    order = np.argsort(positions, kind="stable")
    return pa.concat_tables([fast_table, slow]).take(pa.array(order)), positions[order]


# -- the fast path ----------------------------------------------------------------------------------

# What Arrow parses: the contract's columns, event_time as text (its format is checked before conversion).
_FAST_SCHEMA = pa.schema(
    [pa.field(f.name, pa.string(), nullable=False) if f.name == "event_time" else f for f in MESSAGE_SCHEMA]
)
_PARSE_OPTIONS = pj.ParseOptions(explicit_schema=_FAST_SCHEMA, unexpected_field_behavior="error")
_EMPTY_MESSAGES = MESSAGE_SCHEMA.empty_table()
_SPLIT_WAYS = 16
# A part this small that Arrow rejects goes to the Python decoder whole: below it, a native parse call
# (~150 us of overhead) costs more than decoding the part in Python (~12 us a message).
_PYTHON_PART = 64
_OPEN, _CLOSE, _NEWLINE = ord("{"), ord("}"), ord("\n")
# Bytes a flat, compact, contract-valid object never holds (the joiner's newlines aside).
_NEVER_IN_FLAT = (b"[", b"]", b"\\", b"\r", b"\x00")
# Per byte: 1 for a brace, 3 for a byte that makes a value ineligible (any sum other than 2 flags it).
_WEIGHTS = np.zeros(256, dtype=np.uint8)
_WEIGHTS[[_OPEN, _CLOSE]] = 1
_WEIGHTS[[ord(b) for b in _NEVER_IN_FLAT] + [_NEWLINE] + list(range(0x80, 0x100))] = 3
# The canonical subset of the contract's patterns the fast path accepts (uppercase T and Z, ranges
# checked); any other valid spelling goes to the Python decoder, which accepts it.
_FAST_EVENT_TIME = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
_PLACEHOLDER_TIME = "1970-01-01T00:00:00Z"


def _fast_accept(
    values: Sequence[bytes | None], stamps_ms: np.ndarray, contract: TickContract
) -> tuple[pa.Table, np.ndarray]:
    """The messages the fast path accepts (MESSAGE_SCHEMA rows) and their positions, ascending."""
    eligible, joined = _screen(values)
    parts: list[pa.Table] = []
    kept: list[np.ndarray] = []
    if len(eligible):
        _parse_isolating(values, eligible, joined, parts, kept)
    if not parts:
        return _EMPTY_MESSAGES, np.empty(0, dtype=np.int64)
    table = pa.concat_tables(parts).combine_chunks() if len(parts) > 1 else parts[0].combine_chunks()
    positions = np.concatenate(kept)
    ok, event_time = _contract_mask(table, stamps_ms[positions], contract)
    table = table.set_column(table.schema.get_field_index("event_time"), MESSAGE_SCHEMA.field("event_time"), event_time)
    table = table.cast(MESSAGE_SCHEMA)
    if ok.all():
        return table, positions
    return table.filter(pa.array(ok)), positions[ok]


def _screen(values: Sequence[bytes | None]) -> tuple[np.ndarray, bytes]:
    """Positions of the values Arrow's reader may see (one flat object each) and those values joined."""
    n = len(values)
    try:
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    except TypeError:  # a tombstone (None)
        lengths = None
    if lengths is not None and lengths.min() >= 2 and lengths.max() <= MAX_MESSAGE_BYTES:
        joined = b"\n".join(values)  # type: ignore[arg-type]
        if _all_flat_objects(joined, lengths):
            return np.arange(n, dtype=np.int64), joined
    # Some value is not flat: find which, with one vectorised pass over the candidates.
    candidates = np.asarray(
        [i for i, v in enumerate(values) if v is not None and 2 <= len(v) <= MAX_MESSAGE_BYTES], dtype=np.int64
    )
    if not len(candidates):
        return candidates, b""
    subset = [values[i] for i in candidates.tolist()]
    joined = b"\n".join(subset)  # type: ignore[arg-type]
    flat = _flat_object_mask(joined, np.fromiter(map(len, subset), dtype=np.int64, count=len(subset)))
    if flat.all():
        return candidates, joined
    eligible = candidates[flat]
    return eligible, b"\n".join(values[i] for i in eligible.tolist())  # type: ignore[misc]


def _starts(lengths: np.ndarray) -> np.ndarray:
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    return starts


def _all_flat_objects(joined: bytes, lengths: np.ndarray) -> bool:
    """Every value is one flat object (see the module doc): cheap whole-batch checks."""
    if not joined.isascii() or any(byte in joined for byte in _NEVER_IN_FLAT):
        return False
    buf = np.frombuffer(joined, dtype=np.uint8)
    starts = _starts(lengths)
    if not ((buf[starts] == _OPEN).all() and (buf[starts + lengths - 1] == _CLOSE).all()):
        return False
    n = len(lengths)
    # Each value starts with { and ends with }; n of each in all means no value holds another one.
    return (
        int(np.count_nonzero(buf == _NEWLINE)) == n - 1
        and int(np.count_nonzero(buf == _OPEN)) == n
        and int(np.count_nonzero(buf == _CLOSE)) == n
    )


def _flat_object_mask(joined: bytes, lengths: np.ndarray) -> np.ndarray:
    """Per value: one flat object (the slow check, for batches where the whole-batch one failed)."""
    buf = np.frombuffer(joined, dtype=np.uint8)
    starts = _starts(lengths)
    weights = _WEIGHTS[buf]
    hits = np.flatnonzero(weights)  # few: two braces and a joiner per flat value
    owner = np.searchsorted(starts, hits, side="right") - 1
    sums = np.bincount(owner, weights=weights[hits], minlength=len(lengths))
    expected = np.full(len(lengths), 2 + 3, dtype=np.float64)  # every segment but the last holds a joiner
    expected[-1] = 2
    return (sums == expected) & (buf[starts] == _OPEN) & (buf[starts + lengths - 1] == _CLOSE)


def _parse_isolating(
    values: Sequence[bytes | None], idx: np.ndarray, joined: bytes, parts: list[pa.Table], kept: list[np.ndarray]
) -> None:
    """Parse `idx` as a whole, else split it until the parts Arrow rejects are small (left out: the
    Python decoder decides their messages)."""
    table = _parse(joined, len(idx))
    if table is not None:
        parts.append(table)
        kept.append(idx)
        return
    if len(idx) <= _PYTHON_PART:
        return
    step = max(1, -(-len(idx) // _SPLIT_WAYS))
    for lo in range(0, len(idx), step):
        sub = idx[lo : lo + step]
        _parse_isolating(values, sub, b"\n".join(values[i] for i in sub.tolist()), parts, kept)  # type: ignore[misc]


def _parse(joined: bytes, n: int) -> pa.Table | None:
    """Arrow's JSON reader on flat objects only; None if it rejects any or the rows do not line up."""
    marker = os.environ.get(CRASH_MARKER_ENV)
    if marker and marker.encode() in joined:
        os.kill(os.getpid(), signal.SIGSEGV)  # test-only: what a native parser bug does
    try:
        table = pj.read_json(pa.BufferReader(joined), parse_options=_PARSE_OPTIONS)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == n else None


def _contract_mask(table: pa.Table, stamps_ms: np.ndarray, contract: TickContract) -> tuple[np.ndarray, pa.Array]:
    """Vectorised contract check of parsed rows: (rows that pass every rule, event_time as timestamps).

    Nulls are already excluded where the contract forbids them (Arrow enforces non-nullable fields).
    """
    event_type = table["event_type"]
    price, bid, ask = table["price"], table["bid"], table["ask"]
    size = table["size"]
    is_trade = pc.equal(event_type, "trade")
    masks = [
        _one_of(table["schema_version"], SUPPORTED_SCHEMA_VERSIONS),
        _one_of(event_type, EVENT_TYPES),
        _full_match(table["symbol"], SYMBOL_PATTERN),
        _full_match(table["exchange"], EXCHANGE_PATTERN),
        pc.greater_equal(table["seq"], 0),
        *(pc.and_(pc.greater(p, 0.0), pc.less_equal(p, MAX_PRICE)) for p in (price, bid, ask)),  # NaN fails
        pc.less_equal(bid, ask),
        pc.if_else(
            is_trade,
            pc.fill_null(pc.and_(pc.greater_equal(size, 1), pc.less_equal(size, MAX_SIZE)), False),
            pc.is_null(size),
        ),
        *(pc.and_(pc.greater_equal(s, 0), pc.less_equal(s, MAX_SIZE)) for s in (table["bid_size"], table["ask_size"])),
    ]
    ok, event_time = _event_times(table["event_time"].combine_chunks())
    for mask in masks:
        ok &= np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    event_us = event_time.cast(pa.int64()).to_numpy(zero_copy_only=False)
    ok &= event_us >= contract.floor_us
    ok &= event_us <= stamps_ms * 1000 + contract.skew_us
    return ok, event_time


def _full_match(column: pa.ChunkedArray, pattern: str) -> pa.Array:
    """Whole-string regex match, run once per distinct value (a batch holds a few symbols and venues)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    return pc.match_substring_regex(encoded.dictionary, f"^{pattern}$").take(encoded.indices)


def _event_times(text: pa.StringArray) -> tuple[np.ndarray, pa.Array]:
    """Which event_time strings the fast path accepts, and all of them as timestamps (0 where not).

    The common spelling (the simulator's, 27 characters: 2026-11-25T14:30:00.123456Z) is recognised by
    its fixed shape with numpy; otherwise the canonical pattern decides. Arrow's cast converts and
    rejects impossible values (month 13, hour 24, Feb 30), in which case the pattern, then the Python
    conversion, narrows it down.
    """
    ok = _canonical_shape(text)
    if ok is None or not ok.all():
        ok = np.asarray(
            pc.fill_null(pc.match_substring_regex(text, _FAST_EVENT_TIME), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
    candidates = pc.if_else(pa.array(ok), text, _PLACEHOLDER_TIME)
    try:
        return ok, pc.cast(candidates, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        pass
    ok = ok & np.asarray(
        pc.fill_null(pc.match_substring_regex(text, _FAST_EVENT_TIME), False).to_numpy(zero_copy_only=False), dtype=bool
    )
    micros = [event_time_us(t) if keep else 0 for t, keep in zip(text.to_pylist(), ok.tolist(), strict=True)]
    ok &= np.fromiter((m is not None for m in micros), dtype=bool, count=len(micros))
    return ok, pa.array([m or 0 for m in micros], type=pa.timestamp("us", tz="UTC"))


_SHAPE = b"0000-00-00T00:00:00.000000Z"
_SHAPE_DIGITS = np.array([i for i, c in enumerate(_SHAPE) if c == ord("0")])
_SHAPE_SEPARATORS = np.array([i for i, c in enumerate(_SHAPE) if c != ord("0")])
_SHAPE_SEPARATOR_BYTES = np.frombuffer(bytes(_SHAPE[i] for i in _SHAPE_SEPARATORS), dtype=np.uint8)


def _canonical_shape(text: pa.StringArray) -> np.ndarray | None:
    """Per row: digits and separators exactly as in 2026-11-25T14:30:00.123456Z; None if lengths differ."""
    n = len(text)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + n + 1]
    if n == 0 or text.null_count or not (np.diff(offsets) == len(_SHAPE)).all():
        return None
    chars = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(n, len(_SHAPE))
    separators_ok = (chars[:, _SHAPE_SEPARATORS] == _SHAPE_SEPARATOR_BYTES).all(axis=1)
    digits_ok = ((chars[:, _SHAPE_DIGITS] - ord("0")) < 10).all(axis=1)  # uint8: bytes below '0' wrap above 9
    return separators_ok & digits_ok


def _one_of(column: pa.ChunkedArray, allowed: frozenset) -> pa.ChunkedArray:
    """Membership in a small set as OR-ed equalities (pc.is_in costs ~1 s on its first call)."""
    result = None
    for value in sorted(allowed):
        equal = pc.equal(column, value)
        result = equal if result is None else pc.or_(result, equal)
    assert result is not None
    return result


def _dlq_table(batch: Chunk, bad: dict[int, str]) -> pa.Table:
    if not bad:
        return DLQ_SCHEMA.empty_table()
    idx = np.asarray(sorted(bad), dtype=np.int64)
    keys = batch.keys
    return pa.Table.from_arrays(
        [
            pa.array([batch.values[i] for i in idx], type=pa.binary()),
            pa.array([keys[i] if keys is not None else None for i in idx], type=pa.binary()),
            pa.array(np.full(len(idx), batch.partition, dtype=np.int32)),
            pa.array(batch.offsets[idx], type=pa.int64()),
            pa.array(batch.timestamps_ms[idx], type=pa.timestamp("ms", tz="UTC")),
            pa.array([bad[int(i)] for i in idx], type=pa.string()),
        ],
        schema=DLQ_SCHEMA,
    )
