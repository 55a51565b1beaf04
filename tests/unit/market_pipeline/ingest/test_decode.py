"""decode_batch: good ticks, the malformed corpus with the contract's reasons (both decoders), edge-valid
spellings, mixed batches, and the guards around the native JSON reader."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from market_pipeline.ingest import decode
from market_pipeline.ingest.decode import DecodeMode, check_message, decode_batch
from market_pipeline.ingest.kafka_window import Chunk
from market_pipeline.schema import DLQ_SCHEMA, RAW_TABLE_SCHEMA, TickContract
from tests.malformed import edge_valid, malformed
from tests.ticks import encode, make_ticks

START = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
# The broker appended every test message one hour after START: ticks are in the past, not the future.
APPENDED = START + timedelta(hours=1)
APPENDED_MS = int(APPENDED.timestamp() * 1000)
GOOD = next(t for t in make_ticks(50, START) if t["event_type"] == "trade")
MALFORMED = malformed(GOOD, APPENDED)
EDGE_VALID = edge_valid(GOOD, APPENDED)
MODES = [DecodeMode.FAST, DecodeMode.SAFE]


def batch(
    values: list[bytes | None], partition: int = 2, first_offset: int = 100, appended_ms: int = APPENDED_MS
) -> Chunk:
    n = len(values)
    return Chunk(
        partition=partition,
        range_start=first_offset,
        range_end=first_offset + n,
        values=values,
        offsets=np.arange(first_offset, first_offset + n, dtype=np.int64),
        timestamps_ms=np.full(n, appended_ms, dtype=np.int64) + np.arange(n, dtype=np.int64),
        keys=[f"k{i}".encode() for i in range(n)],
    )


def test_the_corpus_is_large_and_covers_every_reason_of_the_contract():
    assert len(MALFORMED) >= 90
    rules = {c.reason.split(":")[0] for c in MALFORMED}
    from market_pipeline.schema import FIELD_RULES, MESSAGE_REASONS

    assert rules >= (set(MESSAGE_REASONS) - {"decoder_crash"}) | set(FIELD_RULES)


@pytest.mark.parametrize("mode", MODES)
def test_good_batch_decodes_every_message_with_kafka_columns(mode):
    ticks = make_ticks(500, START)
    decoded = decode_batch(batch([encode(t) for t in ticks]), mode=mode)
    rows = decoded.rows
    assert rows.schema.equals(RAW_TABLE_SCHEMA, check_metadata=True)
    assert rows.num_rows == 500 and decoded.dlq.num_rows == 0
    assert rows["kafka_offset"].to_pylist() == list(range(100, 600))
    assert set(rows["kafka_partition"].to_pylist()) == {2}
    assert rows["ingested_at"][0].as_py() == APPENDED
    first = rows.slice(0, 1).to_pylist()[0]
    assert first["symbol"] == ticks[0]["symbol"] and first["seq"] == ticks[0]["seq"]
    assert first["event_time"] == START
    assert rows["size"].to_pylist()[:3] == [t["size"] for t in ticks[:3]]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", MALFORMED, ids=[c.kind for c in MALFORMED])
def test_each_malformed_kind_goes_to_the_dlq_with_the_contracts_reason(case, mode):
    decoded = decode_batch(batch([case.value]), mode=mode)
    assert decoded.rows.num_rows == 0
    assert decoded.dlq.to_pylist() == [
        {
            "raw": case.value,
            "key": b"k0",
            "kafka_partition": 2,
            "kafka_offset": 100,
            "broker_timestamp": APPENDED,
            "reason": case.reason,
        }
    ]


def parsed_time(text: str) -> datetime:
    """An RFC 3339 instant by the standard library, independently of the decoder."""
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", EDGE_VALID, ids=[c.kind for c in EDGE_VALID])
def test_edge_valid_spellings_are_accepted_with_their_values(case, mode):
    decoded = decode_batch(batch([case.value]), mode=mode)
    assert decoded.dlq.num_rows == 0, decoded.dlq["reason"].to_pylist()
    (row,) = decoded.rows.to_pylist()
    doc = json.loads(case.value)
    for name in ("schema_version", "event_type", "symbol", "seq", "exchange", "bid_size", "ask_size"):
        assert row[name] == doc[name]
    for name in ("price", "bid", "ask"):
        assert row[name] == float(doc[name])
    assert row["size"] == doc.get("size")
    assert row["event_time"] == parsed_time(doc["event_time"])


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_mixing_everything_keeps_each_message_in_order(mode):
    ticks = [encode(t) for t in make_ticks(2000, START)]
    inserted = [*MALFORMED, *EDGE_VALID]
    values: list[bytes | None] = []
    expected_reason: dict[int, str] = {}
    for i, tick in enumerate(ticks):
        values.append(tick)
        if i % 10 == 5 and inserted:
            case = inserted.pop(0)
            if case.reason is not None:
                expected_reason[len(values)] = case.reason
            values.append(case.value)
    decoded = decode_batch(batch(values, first_offset=0), mode=mode)
    dlq = dict(zip(decoded.dlq["kafka_offset"].to_pylist(), decoded.dlq["reason"].to_pylist(), strict=True))
    assert dlq == expected_reason
    assert decoded.rows["kafka_offset"].to_pylist() == [i for i in range(len(values)) if i not in expected_reason]
    assert decoded.rows.num_rows + decoded.dlq.num_rows == len(values)
    assert decoded.dlq["key"].to_pylist() == [f"k{i}".encode() for i in sorted(expected_reason)]
    assert decoded.dlq.schema.equals(DLQ_SCHEMA)


def test_the_native_reader_only_ever_sees_flat_objects(monkeypatch):
    seen: list[bytes] = []
    real = decode.pj.read_json

    def spy(source, **kwargs):
        data = source.read()
        seen.append(data)
        return real(pa.BufferReader(data), **kwargs)

    monkeypatch.setattr(decode.pj, "read_json", spy)
    values = [encode(t) for t in make_ticks(200, START)] + [c.value for c in MALFORMED + EDGE_VALID]
    decode_batch(batch(values))
    assert seen
    for data in seen:
        for line in data.split(b"\n"):
            assert line[:1] == b"{" and line[-1:] == b"}" and line.count(b"{") == line.count(b"}") == 1, line[:80]
            assert line.isascii() and not any(b in line for b in (b"[", b"]", b"\\", b"\r", b"\x00")), line[:80]


def test_two_objects_in_one_message_are_rejected_not_split():
    decoded = decode_batch(batch([encode(GOOD) + encode(GOOD), encode(GOOD)]))
    assert decoded.rows["kafka_offset"].to_pylist() == [101]
    assert decoded.dlq["reason"].to_pylist() == ["invalid_json"]


def test_the_skew_is_measured_against_each_messages_own_broker_time():
    tick = encode({**GOOD, "event_time": "2026-11-25T15:34:00Z"})  # 4 minutes after APPENDED
    assert isinstance(check_message(tick, APPENDED_MS), tuple)
    assert check_message(tick, APPENDED_MS - 60_001) == "in_future:event_time"
    strict = TickContract(max_event_time_skew=timedelta(0))
    assert check_message(tick, APPENDED_MS, strict) == "in_future:event_time"
    decoded = decode_batch(batch([tick, tick], appended_ms=APPENDED_MS - 60_000), strict)
    assert decoded.rows.num_rows == 0 and decoded.dlq.num_rows == 2


def test_the_floor_is_a_setting():
    old = encode({**GOOD, "event_time": "1987-01-02T14:30:00Z"})  # a replay of 1987 prices
    assert check_message(old, APPENDED_MS) == "too_old:event_time"
    contract = TickContract(event_time_floor=datetime(1960, 1, 1, tzinfo=UTC))
    for mode in MODES:
        assert decode_batch(batch([old]), contract, mode).rows.num_rows == 1


def test_a_python_level_failure_dead_letters_that_message_and_keeps_the_rest(monkeypatch):
    real = decode._check_fields

    def broken(pairs, broker_ms, contract):
        if dict(pairs).get("symbol") == "BOOM":
            raise KeyError("a defect")
        return real(pairs, broker_ms, contract)

    monkeypatch.setattr(decode, "_check_fields", broken)
    # Pretty-printed, so the Python decoder sees it in the fast mode too.
    values = [encode(GOOD), json.dumps({**GOOD, "symbol": "BOOM"}, indent=1).encode(), encode(GOOD)]
    for mode in MODES:
        decoded = decode_batch(batch(values), mode=mode)
        assert decoded.rows["kafka_offset"].to_pylist() == [100, 102]
        assert decoded.dlq["reason"].to_pylist() == ["decoder_crash"]


def test_a_defect_in_the_fast_path_falls_back_to_the_python_decoder(monkeypatch):
    values = [encode(t) for t in make_ticks(50, START)] + [b"null"]
    expected = decode_batch(batch(values))

    def broken(*args, **kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr(decode, "_fast_accept", broken)
    fallback = decode_batch(batch(values))
    assert fallback.rows.equals(expected.rows) and fallback.dlq.equals(expected.dlq)


def test_empty_batch():
    decoded = decode_batch(batch([]))
    assert decoded.rows.num_rows == 0 and decoded.rows.schema.equals(RAW_TABLE_SCHEMA)
    assert decoded.dlq.num_rows == 0


def test_decoding_is_deterministic():
    values = [encode(t) for t in make_ticks(300, START)] + [b"nope"]
    first, second = decode_batch(batch(values)), decode_batch(batch(values))
    assert first.rows.equals(second.rows) and first.dlq.equals(second.dlq)
