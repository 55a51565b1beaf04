"""Benchmark: the message decoder alone, on 100,000-tick chunks of simulator ticks (no services).

Measured side by side in one process, alternating runs, median of each:

- ``fast``          the fast path on a clean chunk (what a healthy window costs);
- ``fast + bad``    the same chunk with 0.1 % malformed messages from tests/malformed.py interleaved
                    (any kind, or only JSON objects: the kinds the earlier decoder survives);
- ``safe``          the Python decoder alone (the retry after an attempt that died), on the clean chunk;
- ``baseline``      with ``--baseline REV``, the decoder of that git revision on the clean and the mixed
                    chunk (e.g. the one before the strict contract and the guards), for before/after ratios.

Run: ``.venv/bin/python bench/bench_decode.py [--baseline REV] [--rounds 8]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from market_pipeline.ingest.decode import DecodeMode, decode_batch  # noqa: E402
from market_pipeline.ingest.kafka_window import Chunk  # noqa: E402
from simulator.encode import JsonEncoder  # noqa: E402
from tests.malformed import malformed  # noqa: E402
from tests.ticks import tick_block  # noqa: E402

TICKS = 100_000
START = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def chunk_of(values: list[bytes | None]) -> Chunk:
    n = len(values)
    appended = int((START + timedelta(hours=1)).timestamp() * 1000)
    return Chunk(0, 0, n, values, None, np.arange(n, dtype=np.int64), np.full(n, appended, dtype=np.int64))


def with_bad(clean: list[bytes], cases: list[bytes | None]) -> list[bytes | None]:
    """`clean` with one of `cases` at every 1,000th position (0.1 %)."""
    mixed: list[bytes | None] = list(clean)
    for i, position in enumerate(range(500, len(clean), 1000)):
        mixed[position] = cases[i % len(cases)]
    return mixed


def baseline_decoder(revision: str) -> Callable[[Chunk], object]:
    source = subprocess.run(
        ["git", "show", f"{revision}:include/market_pipeline/ingest/decode.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_decode.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_decode", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.decode_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a git revision whose decoder to compare with")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()

    block = tick_block(TICKS, START, timedelta(milliseconds=1), seed=3)
    clean = JsonEncoder(block.symbols).encode(block)
    base = next(v for v in clean if b'"trade"' in v)
    cases = [c.value for c in malformed(json.loads(base), START + timedelta(hours=1))]
    # The earlier decoder crashes or raises on some kinds (null, deep nesting): compare on objects only.
    objects = [c for c in cases if c is not None and c[:1] == b"{" and c.count(b"[") + c.count(b"{") < 8]
    mixed, mixed_objects = with_bad(clean, cases), with_bad(clean, objects)
    runs: dict[str, Callable[[], object]] = {
        "fast": lambda: decode_batch(chunk_of(clean)),
        "fast + 0.1 % bad (any)": lambda: decode_batch(chunk_of(mixed)),
        "fast + 0.1 % bad (objects)": lambda: decode_batch(chunk_of(mixed_objects)),
        "safe": lambda: decode_batch(chunk_of(clean), mode=DecodeMode.SAFE),
    }
    if args.baseline:
        old = baseline_decoder(args.baseline)
        runs[f"baseline {args.baseline}"] = lambda: old(chunk_of(clean))
        runs["baseline + 0.1 % bad (objects)"] = lambda: old(chunk_of(mixed_objects))
    assert decode_batch(chunk_of(clean)).rows.num_rows == TICKS

    print(f"load average before: {os.getloadavg()} on {os.cpu_count()} cores (other work slows every row)")
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up
    for _ in range(args.rounds):
        for name, run in runs.items():
            if ("safe" in name or "bad" in name) and len(seconds[name]) >= 3:
                continue  # several times slower: three rounds are enough for a median
            began = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - began)
    print(f"load average after: {os.getloadavg()}")
    fast = statistics.median(seconds["fast"])
    print(f"\n{'decoder':<28}{'ticks/s (median)':>18}{'vs fast':>10}")
    for name, measured in seconds.items():
        median = statistics.median(measured)
        print(f"{name:<28}{TICKS / median:>18,.0f}{fast / median:>9.2f}x")


if __name__ == "__main__":
    main()
