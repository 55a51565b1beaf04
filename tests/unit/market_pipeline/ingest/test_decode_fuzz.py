"""Fuzz the decoder with Hypothesis in a child process: a native crash fails this test, not pytest.

The properties and invariants are in tests/fuzz_decode.py. Budget: PIPELINE_FUZZ_SECONDS (default 40,
what `make test` runs); for a longer manual run, e.g. half an hour:

    PIPELINE_FUZZ_SECONDS=1800 .venv/bin/pytest tests/unit/market_pipeline/ingest/test_decode_fuzz.py
    # or directly: .venv/bin/python -m tests.fuzz_decode --seconds 1800
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.support import ROOT

BUDGET = float(os.environ.get("PIPELINE_FUZZ_SECONDS", "40"))


@pytest.mark.timeout(BUDGET + 300)
def test_the_decoder_survives_fuzzing_in_a_child_process():
    child = subprocess.run(
        [sys.executable, "-m", "tests.fuzz_decode", "--seconds", str(BUDGET)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUDGET + 240,
    )
    if child.returncode < 0:
        pytest.fail(
            f"the fuzzed decoder killed its process with {signal.Signals(-child.returncode).name} "
            f"(a native crash):\n{child.stderr[-4000:]}"
        )
    assert child.returncode == 0, f"a property failed:\n{child.stdout[-2000:]}\n{child.stderr[-6000:]}"
    summary = json.loads(child.stdout.strip().splitlines()[-1])
    assert all(count >= 100 for count in summary["examples"].values()), summary


def test_a_native_crash_in_the_child_is_reported_as_such(monkeypatch):
    """The harness itself: the test-only crash hook kills the child, and that is seen as a signal."""
    monkeypatch.setenv("PIPELINE_TEST_NATIVE_CRASH_MARKER", "BOOM")
    code = (
        "import numpy as np\n"
        "from market_pipeline.ingest.decode import decode_batch\n"
        "from market_pipeline.ingest.kafka_window import Chunk\n"
        'decode_batch(Chunk(0, 0, 1, [b\'{"symbol":"BOOM"}\'], None, np.zeros(1, np.int64), np.zeros(1, np.int64)))\n'
    )
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGSEGV
