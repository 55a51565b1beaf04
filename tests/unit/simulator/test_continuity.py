"""Fuzzing the simulator's reader of the topic tail: whatever a message holds, it is a tick or nothing.

The topic is outside input (other producers, the malformed corpus of the poison tests), and the next
run starts from what this reads: a price that is not a positive finite number, or a seq that is not a
non-negative integer, must never reach it. Python's json only, so no child process is needed.
"""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.continuity import LastTick, _tick

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELD = JSON | st.integers(min_value=-(10**400), max_value=10**400) | st.floats(allow_nan=True, allow_infinity=True)


def _documents() -> st.SearchStrategy[bytes]:
    tick_like = st.fixed_dictionaries({}, optional={"symbol": FIELD, "price": FIELD, "seq": FIELD, "x": JSON})
    as_json = (tick_like | JSON).map(lambda d: json.dumps(d).encode())
    return as_json | st.binary(max_size=64)


@settings(max_examples=600, deadline=None)
@given(_documents())
def test_a_message_is_a_valid_tick_or_none(value: bytes) -> None:
    tick = _tick(value)
    if tick is None:
        return
    symbol, last = tick
    doc = json.loads(value)
    assert isinstance(symbol, str) and symbol == doc["symbol"]
    assert isinstance(last, LastTick) and math.isfinite(last.price) and last.price > 0
    assert type(last.seq) is int and last.seq >= 0 and last.seq == doc["seq"]
    assert last.price == doc["price"] and not isinstance(doc["price"], bool)


def test_the_simulators_own_tick_reads_back() -> None:
    value = b'{"symbol":"AAPL","event_type":"trade","price":227.715,"seq":42,"size":100}'
    assert _tick(value) == ("AAPL", LastTick(227.715, 42))


def test_values_a_run_cannot_start_from_are_not_ticks() -> None:
    for doc in (
        {"symbol": "AAPL", "price": "227.7", "seq": 1},  # a string price
        {"symbol": "AAPL", "price": True, "seq": 1},  # a bool is not a number here
        {"symbol": "AAPL", "price": 1.0, "seq": -1},
        {"symbol": "AAPL", "price": 1.0, "seq": 1.0},
        {"symbol": "AAPL", "price": 10**400, "seq": 1},  # no float holds it
        {"symbol": "AAPL", "price": 1.0},
    ):
        assert _tick(json.dumps(doc).encode()) is None, doc
    assert _tick(b'{"symbol":"AAPL","price":Infinity,"seq":1}') is None
    assert _tick(b'{"symbol":"AAPL","price":NaN,"seq":1}') is None
    assert _tick(b"[" * 100_000) is None


def test_a_run_goes_on_from_the_tail_with_seqs_always_and_prices_when_asked() -> None:
    from simulator.continuity import continue_from

    tail = {"AAPL": LastTick(227.5, 41), "MSFT": LastTick(424.0, 7)}
    assert continue_from(tail, prices=True) == {
        "start_seqs": {"AAPL": 41, "MSFT": 7},
        "start_prices": {"AAPL": 227.5, "MSFT": 424.0},
    }
    assert continue_from(tail, prices=False) == {"start_seqs": {"AAPL": 41, "MSFT": 7}, "start_prices": None}
    assert continue_from({}, prices=True) == {"start_seqs": None, "start_prices": None}, "an empty topic"
