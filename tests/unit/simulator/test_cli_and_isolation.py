"""The CLI's usage errors, and the simulator's independence from the pipeline library."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from simulator.cli import main
from simulator.producer import build_producer_config, parse_overrides
from tests.support import ROOT

SIMULATOR = ROOT / "include" / "simulator"


def test_help_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "simulator", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--bootstrap-servers" in proc.stdout and "--replay-file" in proc.stdout


def test_simulator_never_imports_market_pipeline() -> None:
    code = (
        "import sys, simulator.cli, simulator.runner, simulator.pacing, simulator.replay, simulator.encode\n"
        "assert 'market_pipeline' not in sys.modules\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
    for path in SIMULATOR.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+market_pipeline", path.read_text(), re.M), path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-b", "127.0.0.1:1", "--universe", "APPL"], "unknown symbol(s) APPL"),
        (["-b", "127.0.0.1:1", "--mode", "replay"], "needs replay_file"),
        (["-b", "127.0.0.1:1", "--mode", "replay", "--replay-file", "/nonexistent.csv"], "does not exist"),
        (["-b", "127.0.0.1:1", "--duration", "-1"], "duration_s must be > 0"),
        (["-X", "nonsense"], "-X expects key=value"),
        (["--count", "1"], "bootstrap.servers is required"),
    ],
)
def test_usage_errors_exit_2_with_a_message(argv, message, capsys) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_producer_config_layers() -> None:
    cfg = build_producer_config(
        {"bootstrap.servers": "a:1", "group.id": "ingest", "linger.ms": 5},
        parse_overrides(["compression.type=zstd"]),
    )
    assert "group.id" not in cfg, "consumer-only keys of a shared connection are dropped"
    assert cfg["acks"] == "all" and cfg["enable.idempotence"] is True
    assert cfg["linger.ms"] == 5 and cfg["compression.type"] == "zstd"
    assert cfg["allow.auto.create.topics"] is False


def test_created_topic_config_agrees_with_the_pipelines_topic_owner() -> None:
    """The standalone --create-topic states the timestamp type itself; it must be the pipeline's."""
    from market_pipeline.setup.topic import FIXED_CONFIGS, TIMESTAMP_CONFIG
    from simulator.producer import CREATED_TOPIC_CONFIG

    assert {k: CREATED_TOPIC_CONFIG.get(k) for k in FIXED_CONFIGS} == {k: TIMESTAMP_CONFIG[k] for k in FIXED_CONFIGS}
