"""Property-based fuzzing of the message decoder (Hypothesis), meant to run in a child process.

Run it through tests/unit/market_pipeline/ingest/test_decode_fuzz.py (which starts it as a child, so a
native crash fails that test instead of killing pytest), or directly for a longer budget:

    .venv/bin/python -m tests.fuzz_decode --seconds 1800

Five properties, each a batch of messages mixing valid simulator ticks with generated values:

- arbitrary bytes (and tombstones);
- JSON documents of any shape, including nesting thousands deep;
- contract-valid ticks with every field drawn from its whole valid range, in any valid spelling;
- a valid tick with one field changed, removed or repeated (anything, or a value at a limit).

Invariants on every batch, in both decode modes: rows + dead letters == messages, each offset exactly
once, every reason is one of the contract's (never ``decoder_crash``), a field rule names a contract
field, the fast and the safe decoder write the same Parquet bytes; valid ticks are always accepted
with their values; a changed field's rejection names that field (or a rule tying it to another field).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market_pipeline.ingest.decode import FIELDS, Decoded, DecodeMode, decode_batch
from market_pipeline.ingest.kafka_window import Chunk
from market_pipeline.ingest.parquet import parquet_bytes
from market_pipeline.schema import (
    EXCHANGE_PATTERN,
    FIELD_RULES,
    MAX_MESSAGE_BYTES,
    MAX_NESTING,
    MAX_PRICE,
    MAX_SIZE,
    MESSAGE_REASONS,
    SYMBOL_PATTERN,
    TickContract,
)
from tests.ticks import encode, make_ticks

CONTRACT = TickContract()
APPENDED = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
APPENDED_MS = int(APPENDED.timestamp() * 1000)
SIMULATED = [encode(t) for t in make_ticks(64, APPENDED - timedelta(minutes=30), seed=5)]
BASE = next(json.loads(v) for v in SIMULATED if json.loads(v)["event_type"] == "trade")
FIELD_REASONS = set(FIELD_RULES)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- the invariants -----------------------------------------------------------------------------------


def decode_both(values: list[bytes | None], stamps_ms: list[int]) -> Decoded:
    """Decode in both modes, check every invariant that holds for any input, return the fast result."""
    n = len(values)
    chunk = Chunk(
        partition=0,
        range_start=0,
        range_end=n,
        values=values,
        keys=None,
        offsets=np.arange(n, dtype=np.int64),
        timestamps_ms=np.asarray(stamps_ms, dtype=np.int64),
    )
    fast = decode_batch(chunk, CONTRACT, DecodeMode.FAST)
    safe = decode_batch(chunk, CONTRACT, DecodeMode.SAFE)
    offsets = fast.rows["kafka_offset"].to_pylist() + fast.dlq["kafka_offset"].to_pylist()
    assert sorted(offsets) == list(range(n)), f"rows + dead letters must be the messages, once each: {offsets}"
    for reason in fast.dlq["reason"].to_pylist():
        rule, _, field = reason.partition(":")
        if not field:
            assert reason in MESSAGE_REASONS and reason != "decoder_crash", reason
        else:
            assert rule in FIELD_REASONS, reason
            assert rule == "unexpected_field" or field in FIELDS, reason
    assert parquet_bytes(fast.rows) == parquet_bytes(safe.rows), "fast and safe rows differ"
    assert parquet_bytes(fast.dlq) == parquet_bytes(safe.dlq), "fast and safe dead letters differ"
    return fast


def reasons_by_offset(decoded: Decoded) -> dict[int, str]:
    return dict(zip(decoded.dlq["kafka_offset"].to_pylist(), decoded.dlq["reason"].to_pylist(), strict=True))


def with_simulated(draw: Callable, generated: list[bytes | None]) -> tuple[list[bytes | None], list[int]]:
    """Interleave generated values with valid simulator ticks (so the fast path runs on mixed batches)."""
    values: list[bytes | None] = []
    positions = []
    for value in generated:
        values.extend(draw(st.lists(st.sampled_from(SIMULATED), max_size=3)))
        positions.append(len(values))
        values.append(value)
    values.extend(draw(st.lists(st.sampled_from(SIMULATED), max_size=3)))
    return values, positions


# -- strategies ---------------------------------------------------------------------------------------

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@st.composite
def json_documents(draw: Callable) -> bytes:
    kind = draw(st.sampled_from(["value", "deep", "tick-like"]))
    if kind == "deep":
        depth = draw(st.integers(0, 3000))
        opener = draw(st.sampled_from(["[", '{"a":']))
        closer = "]" if opener == "[" else "}"
        inner = draw(st.sampled_from(["1", "null", "", '"x"']))
        body = opener * depth + inner + closer * draw(st.integers(0, depth))
        return body.encode()
    if kind == "tick-like":
        doc = {**BASE, **draw(st.dictionaries(st.sampled_from([*FIELDS, "x"]), json_values, max_size=3))}
        return json.dumps(doc).encode()
    return json.dumps(draw(json_values), indent=draw(st.sampled_from([None, 1]))).encode()


def iso_with_zone(micros: int, offset_minutes: int | None, digits: int, upper: bool) -> str:
    """An RFC 3339 spelling of an instant: Z (offset None) or the offset, `digits` fraction digits (the
    instant must have no more precision than that)."""
    local = EPOCH + timedelta(microseconds=micros) + timedelta(minutes=offset_minutes or 0)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}"[:digits]
    if offset_minutes is None:
        zone = "Z"
    else:
        sign = "+" if offset_minutes >= 0 else "-"
        hours, minutes = divmod(abs(offset_minutes), 60)
        zone = f"{sign}{hours:02d}:{minutes:02d}"
    if not upper:
        text, zone = text.replace("T", "t"), zone.replace("Z", "z")
    return text + zone


@st.composite
def valid_ticks(draw: Callable) -> tuple[dict, bytes, int]:
    """(the tick as values, its message bytes, the broker append time in ms): always contract-valid."""
    appended_ms = draw(st.integers(APPENDED_MS - 86_400_000 * 400, APPENDED_MS + 86_400_000 * 400))
    digits = draw(st.integers(0, 6))
    unit = 10 ** (6 - digits)
    latest = appended_ms * 1000 + CONTRACT.skew_us
    micros = draw(st.integers(CONTRACT.floor_us // unit + 1, latest // unit)) * unit
    offset = draw(st.sampled_from([None, None, 0, 60, -300, 330, 23 * 60 + 59, -(23 * 60 + 59)]))
    trade = draw(st.booleans())
    low, high = sorted(draw(st.lists(prices(), min_size=2, max_size=2)))
    tick = {
        "schema_version": 1,
        "event_type": "trade" if trade else "quote",
        "symbol": draw(st.from_regex(f"{SYMBOL_PATTERN}", fullmatch=True)),
        "event_time": iso_with_zone(micros, offset, digits, draw(st.booleans())),
        "seq": draw(st.integers(0, 2**63 - 1)),
        "exchange": draw(st.from_regex(f"{EXCHANGE_PATTERN}", fullmatch=True)),
        "price": draw(prices()),
        "size": draw(st.integers(1, MAX_SIZE)) if trade else None,
        "bid": low,
        "bid_size": draw(st.integers(0, MAX_SIZE)),
        "ask": high,
        "ask_size": draw(st.integers(0, MAX_SIZE)),
    }
    if not trade and draw(st.booleans()):
        del tick["size"]
    expected = {**tick, "event_time": EPOCH + timedelta(microseconds=micros), "size": tick.get("size")}
    return expected, spell(draw, tick), appended_ms


def prices() -> st.SearchStrategy:
    return st.floats(min_value=0.0, max_value=MAX_PRICE, exclude_min=True) | st.integers(1, int(MAX_PRICE))


def spell(draw: Callable, doc: dict) -> bytes:
    """A valid JSON spelling of `doc`: key order, separators, indentation, escapes vary."""
    items = list(doc.items())
    if draw(st.booleans()):
        items = draw(st.permutations(items))
    ordered = dict(items)
    style = draw(st.sampled_from(["compact", "spaced", "indented", "tabs"]))
    if style == "compact":
        text = json.dumps(ordered, separators=(",", ":"))
    elif style == "spaced":
        text = json.dumps(ordered)
    elif style == "indented":
        text = json.dumps(ordered, indent=draw(st.integers(0, 3)))
    else:
        text = json.dumps(ordered, separators=(",\t", ":\t"))
    return text.encode()


@st.composite
def mutated_ticks(draw: Callable, at_limits: bool = False) -> tuple[str, str, bytes, int]:
    """(field, how, message, broker time): a valid tick with one field changed, removed or repeated;
    with `at_limits`, changed to a value at or just past one of the contract's limits."""
    expected, _, appended_ms = draw(valid_ticks())
    tick = {**expected, "event_time": iso_with_zone(_micros(expected["event_time"]), None, 6, True)}
    if tick["size"] is None:
        tick.pop("size")
    field = draw(st.sampled_from(FIELDS))
    how = "change" if at_limits else draw(st.sampled_from(["change", "change", "remove", "repeat"]))
    if how == "remove":
        tick.pop(field, None)
        message = json.dumps(tick).encode()
    elif how == "repeat":
        tick.setdefault(field, None)
        text = json.dumps(tick)
        message = (text[:-1] + f", {json.dumps(field)}: {json.dumps(draw(json_values))}}}").encode()
    else:
        limits = boundary_values(field) | related_values(field, tick, appended_ms)
        tick[field] = draw(limits if at_limits else json_values | limits)
        message = json.dumps(tick).encode()
    return field, how, message, appended_ms


def boundary_values(field: str) -> st.SearchStrategy:
    if field in ("price", "bid", "ask"):
        return st.sampled_from([0, 0.0, -0.0, MAX_PRICE, math.nextafter(MAX_PRICE, math.inf), 5e-324, 1e308, -1])
    if field in ("size", "bid_size", "ask_size", "seq", "schema_version"):
        return st.sampled_from([0, 1, -1, MAX_SIZE, MAX_SIZE + 1, 2**31, 2**63 - 1, 2**63, -(2**63)])
    if field == "event_time":
        return st.sampled_from(
            ["1990-01-01T00:00:00Z", "1989-12-31T23:59:59.999999Z", "2100-01-01T00:00:00Z", "0000-01-01T00:00:00Z"]
        )
    return st.from_regex(r"[A-Za-z0-9 .^=_-]{0,18}", fullmatch=True)


def related_values(field: str, tick: dict, appended_ms: int) -> st.SearchStrategy:
    """Values just around a limit that depends on the rest of the tick (bid vs ask, the future bound)."""
    if field == "bid":
        ask = float(tick["ask"])
        return st.sampled_from([ask, math.nextafter(ask, math.inf), ask * 1.5, ask + 1])
    if field == "ask":
        bid = float(tick["bid"])
        return st.sampled_from([bid, math.nextafter(bid, -math.inf), bid / 2, bid - 1])
    if field == "event_time":
        latest = appended_ms * 1000 + CONTRACT.skew_us
        return st.sampled_from([latest - 1, latest, latest + 1, CONTRACT.floor_us, CONTRACT.floor_us - 1]).map(
            lambda micros: iso_with_zone(micros, None, 6, True)
        )
    if field == "event_type":
        return st.sampled_from(["trade", "quote"])
    return st.nothing()


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


# Reasons a change to one field may legitimately produce without naming it: rules tying two fields.
CROSS_FIELD = {
    "bid": {"bid_above_ask:bid"},
    "ask": {"bid_above_ask:bid"},
    "event_type": {"missing_field:size", "not_allowed:size", "out_of_range:size"},
}


# -- the properties -----------------------------------------------------------------------------------


@given(st.data())
def arbitrary_bytes(data: st.DataObject) -> None:
    generated = data.draw(
        st.lists(
            st.none() | st.binary(max_size=300) | st.builds(lambda b: b"{" + b + b"}", st.binary(max_size=100)),
            min_size=1,
            max_size=6,
        )
    )
    values, _ = with_simulated(data.draw, generated)
    decode_both(values, [APPENDED_MS] * len(values))


@given(st.data())
def json_shapes(data: st.DataObject) -> None:
    generated = data.draw(st.lists(json_documents(), min_size=1, max_size=4))
    values, positions = with_simulated(data.draw, generated)
    decoded = decode_both(values, [APPENDED_MS] * len(values))
    reasons = reasons_by_offset(decoded)
    for position, value in zip(positions, generated, strict=True):
        if value.lstrip()[:1] not in (b"{", b"") and len(value) <= MAX_MESSAGE_BYTES:
            assert reasons.get(position) in ("not_an_object", "too_deep", "invalid_json"), (
                value[:80],
                reasons.get(position),
            )


@given(st.data())
def valid_tick_batches(data: st.DataObject) -> None:
    ticks = data.draw(st.lists(valid_ticks(), min_size=1, max_size=6))
    values = [message for _, message, _ in ticks]
    decoded = decode_both(values, [appended for _, _, appended in ticks])
    assert decoded.dlq.num_rows == 0, list(
        zip(decoded.dlq["reason"].to_pylist(), decoded.dlq["raw"].to_pylist(), strict=True)
    )
    rows = decoded.rows.to_pylist()
    for row, (expected, _, _) in zip(rows, ticks, strict=True):
        for name in FIELDS:
            want = expected[name]
            if name in ("price", "bid", "ask"):
                want = float(want)
            assert row[name] == want, (name, row[name], want)


@given(st.data())
def one_field_changed(data: st.DataObject) -> None:
    check_one_field_changed(data, at_limits=False)


@given(st.data())
def one_field_at_a_limit(data: st.DataObject) -> None:
    check_one_field_changed(data, at_limits=True)


def check_one_field_changed(data: st.DataObject, at_limits: bool) -> None:
    field, how, message, appended_ms = data.draw(mutated_ticks(at_limits))
    values, positions = with_simulated(data.draw, [message])
    decoded = decode_both(values, [appended_ms] * len(values))
    reason = reasons_by_offset(decoded).get(positions[0])
    if reason is None:
        return  # the change kept the tick valid (checked against the safe decoder by decode_both)
    doc_depth = _depth(json.loads(message))
    if reason == "oversized":
        assert len(message) > MAX_MESSAGE_BYTES
    elif reason == "too_deep":
        assert doc_depth > MAX_NESTING
    elif how == "repeat":
        assert reason == f"duplicate_field:{field}", (field, reason)
    else:
        assert reason.endswith(f":{field}") or reason in CROSS_FIELD.get(field, ()), (field, how, reason, message[:200])


PROPERTIES = [arbitrary_bytes, json_shapes, valid_tick_batches, one_field_changed, one_field_at_a_limit]


def run(seconds: float, examples_per_round: int = 100) -> dict[str, int]:
    """Run every property for its share of `seconds`, in rounds of fresh random examples."""
    done: dict[str, int] = {}
    share = seconds / len(PROPERTIES)
    for prop in PROPERTIES:
        configured = settings(
            max_examples=examples_per_round,
            deadline=None,
            database=None,
            derandomize=False,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        )(prop)
        deadline = time.monotonic() + share
        rounds = 0
        while True:
            configured()
            rounds += 1
            if time.monotonic() >= deadline:
                break
        done[prop.__name__] = rounds * examples_per_round
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description="fuzz the message decoder")
    parser.add_argument("--seconds", type=float, default=40.0, help="total budget, shared by the properties")
    args = parser.parse_args()
    began = time.monotonic()
    done = run(args.seconds)
    print(json.dumps({"examples": done, "seconds": round(time.monotonic() - began, 1)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
