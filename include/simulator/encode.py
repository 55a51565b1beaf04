"""Vectorised JSON encoding of tick blocks: one message per tick, no Python loop per field.

Each column is turned into strings by Arrow compute kernels (C++), and ``binary_join_element_wise``
glues constants and columns into one JSON document per row. Prices are fixed-point integers, so
they are printed as ``<whole>.<fraction>`` with a 10,000-entry lookup table for the fraction: every
price carries a decimal point (``190.00``), so JSON readers decode it as a float, never an int.

Measured on 2 cores (8k-64k-tick blocks): 1.0-1.6M ticks/s including the split into one ``bytes`` per
message, vs ~0.28M/s for ``json.dumps`` of dicts and ~0.53M/s for a hand-written numpy byte-matrix
encoder (strided column writes are slow in numpy).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.model import PRICE_SCALE, TickBlock
from simulator.universe import EXCHANGES

# Duplicated from market_pipeline.schema.SCHEMA_VERSION on purpose: the simulator is a standalone tool
# that must not import the pipeline library at runtime. tests/unit/simulator checks the two agree.
SCHEMA_VERSION = 1

_TS_LEN = len("2026-01-02 09:30:00.000000")


def _fraction_table() -> pa.Array:
    """'.00', '.01', ..., '.125', ..., '.9999': at least two decimals, trailing zeros trimmed."""
    digits = len(str(PRICE_SCALE)) - 1
    out = []
    for f in range(PRICE_SCALE):
        s = f"{f:0{digits}d}".rstrip("0")
        out.append("." + s.ljust(2, "0"))
    return pa.array(out, type=pa.string())


_FRACTIONS = _fraction_table()
_EVENT_TYPES = pa.array(["quote", "trade"])
_EXCHANGES = pa.array(list(EXCHANGES))


def iso_us(us: int) -> str:
    """ISO-8601 UTC with microseconds and a Z, the format of ``event_time``."""
    return (datetime(1970, 1, 1) + timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _price_strings(price: np.ndarray) -> tuple[pa.Array, pa.Array]:
    whole, frac = np.divmod(price, PRICE_SCALE)
    return pc.cast(pa.array(whole), pa.string()), _FRACTIONS.take(pa.array(frac))


def _time_strings(event_us: np.ndarray) -> pa.Array:
    """'YYYY-MM-DDTHH:MM:SS.ffffff' (Z added by the template). Arrow prints a space for the T."""
    ts = pc.cast(pa.array(event_us.astype("datetime64[us]")), pa.string())
    n = len(ts)
    offsets, data = ts.buffers()[1], ts.buffers()[2]
    if data is None or data.size < n * _TS_LEN or np.frombuffer(offsets, np.int32)[n] != n * _TS_LEN:
        raise ValueError("event_time outside years 1000-9999 cannot be encoded")
    chars = np.frombuffer(data, dtype=np.uint8, count=n * _TS_LEN).copy()
    chars[10::_TS_LEN] = ord("T")
    return pa.StringArray.from_buffers(n, pa.py_buffer(np.arange(n + 1, dtype=np.int32) * _TS_LEN), pa.py_buffer(chars))


class JsonEncoder:
    """Encodes :class:`TickBlock` s of one symbol table to JSON message values and Kafka keys."""

    def __init__(self, symbols: Sequence[str]) -> None:
        self.symbols = tuple(symbols)
        for s in self.symbols:
            if not s.isascii() or any(c in s for c in '"\\') or not s.isprintable():
                raise ValueError(f"symbol {s!r} cannot be written verbatim into JSON")
        self._symbols = pa.array(list(self.symbols), type=pa.string())
        self._keys = np.array([s.encode("ascii") for s in self.symbols], dtype=object)

    def keys(self, block: TickBlock) -> list[bytes]:
        """Kafka keys (the symbol), so each symbol's ticks stay ordered in one partition."""
        return self._keys[block.sym].tolist()

    def encode_arrow(self, block: TickBlock) -> pa.StringArray:
        """One JSON document per tick as an Arrow string array (no per-row Python objects)."""
        if block.symbols != self.symbols:
            raise ValueError("block was generated for a different symbol table")
        price_w, price_f = _price_strings(block.price)
        bid_w, bid_f = _price_strings(block.bid)
        ask_w, ask_f = _price_strings(block.ask)
        size = pc.cast(pa.array(block.size, mask=~block.is_trade), pa.string())
        return pc.binary_join_element_wise(
            f'{{"schema_version":{SCHEMA_VERSION},"event_type":"',
            _EVENT_TYPES.take(pa.array(block.is_trade.astype(np.int8))),
            '","symbol":"',
            self._symbols.take(pa.array(block.sym)),
            '","event_time":"',
            _time_strings(block.event_us),
            'Z","seq":',
            pc.cast(pa.array(block.seq), pa.string()),
            ',"exchange":"',
            _EXCHANGES.take(pa.array(block.exch)),
            '","price":',
            price_w,
            price_f,
            ',"size":',
            size,
            ',"bid":',
            bid_w,
            bid_f,
            ',"bid_size":',
            pc.cast(pa.array(block.bid_size), pa.string()),
            ',"ask":',
            ask_w,
            ask_f,
            ',"ask_size":',
            pc.cast(pa.array(block.ask_size), pa.string()),
            "}",
            "",  # the separator (last argument)
            null_handling="replace",
            null_replacement="null",
        )

    def encode(self, block: TickBlock) -> list[bytes]:
        """One JSON document (bytes) per tick, ready for ``Producer.produce``."""
        if len(block) == 0:
            return []
        arr = self.encode_arrow(block)
        bufs = arr.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4).tolist()
        data = bufs[2].to_pybytes()
        return [data[a:b] for a, b in itertools.pairwise(offsets)]
