"""scripts/kafka.sh start/stop never orphans a broker, even when the JVM is slow to replace the shell.

The broker is started as `setsid java ... &`; until the exec happens the PID belongs to a forked shell.
A liveness check that looks for the broker's command line too early reported a failed start, deleted
the PID file and left the JVM running where `make stop` could not find it (about 1 start in 8 under
load). Here the delay is injected deterministically: a `setsid` on PATH that waits before exec'ing the
real one, with the broker's arguments out of sight in the meantime.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from devstack.processes import free_port, pids_with_argument
from tests.support import ROOT

pytestmark = pytest.mark.integration

KAFKA_SH = str(ROOT / "scripts" / "kafka.sh")
SLOW_START_SECONDS = 3


def _slow_setsid(bin_dir: Path) -> None:
    """`setsid ARGS...` that stashes ARGS, then re-execs as a command line without them, sleeps, and runs."""
    real = shutil.which("setsid")
    assert real, "setsid (util-linux) is needed by kafka.sh"
    bin_dir.mkdir(parents=True)
    (bin_dir / "setsid").write_text(
        f'#!/usr/bin/env bash\nprintf "%s\\0" "$@" >"{bin_dir}/args"\nexec "{bin_dir}/slow-exec"\n'
    )
    (bin_dir / "slow-exec").write_text(
        "#!/usr/bin/env bash\n"
        f'mapfile -d "" args <"{bin_dir}/args"\n'
        f"sleep {SLOW_START_SECONDS}\n"
        f'exec "{real}" "${{args[@]}}"\n'
    )
    for name in ("setsid", "slow-exec"):
        (bin_dir / name).chmod(0o755)


@pytest.fixture
def broker_env(tmp_path_factory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("kafka-script")
    env = {
        **os.environ,
        "STATE_DIR": str(state),
        "KAFKA_PORT": str(free_port()),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m",
    }
    yield env
    # Whatever happened, leave no broker (or slow-start wrapper) of this state directory behind.
    for pid in pids_with_argument(str(state)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _run(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KAFKA_SH, command], env=env, capture_output=True, text=True, timeout=180)


def test_slow_exec_start_stop_cycles_leave_no_orphan(broker_env):
    bin_dir = Path(broker_env["STATE_DIR"]) / "bin"
    _slow_setsid(bin_dir)
    env = {**broker_env, "PATH": f"{bin_dir}:{broker_env['PATH']}"}
    config_dir = str(Path(env["STATE_DIR"]) / "kafka" / "config")
    pid_file = Path(env["STATE_DIR"]) / "kafka" / "kafka.pid"
    for cycle in range(3):
        started = _run(env, "start")
        assert started.returncode == 0, f"cycle {cycle}: start failed:\n{started.stderr[-3000:]}"
        pid = int(pid_file.read_text())
        assert pids_with_argument(config_dir) == [pid], "the PID file names the one broker of this state"
        assert _run(env, "status").returncode == 0

        stopped = _run(env, "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert not pids_with_argument(config_dir), f"cycle {cycle}: a broker outlived `kafka.sh stop`"
        assert not pid_file.exists()


def test_a_broker_that_dies_during_start_up_is_reported(broker_env):
    """The other side of the wait: a JVM that exits is a failed start, not a hang (no PID file left)."""
    import socket

    with socket.socket() as taken:  # the controller listener cannot bind: the broker exits at start-up
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**broker_env, "KAFKA_CONTROLLER_PORT": str(taken.getsockname()[1])}
        result = _run(env, "start")
    assert result.returncode != 0
    assert "exited during start-up" in result.stderr, result.stderr[-3000:]
    assert not (Path(env["STATE_DIR"]) / "kafka" / "kafka.pid").exists()
