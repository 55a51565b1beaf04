"""A throw-away stack driven with `make` exactly as a user types it (importable as `tests.stacks`).

Its own state directory and free ports for PostgreSQL, Kafka, the local AWS endpoint and Airflow, and
none of the session's PIPELINE_*/AIRFLOW_* environment: it sees only what `make up` gives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.airflow import AirflowClient
from devstack.processes import free_port, pids_with_argument
from tests.support import ROOT

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# What the session sets for its own tests; the throw-away stack must see only its own configuration.
SESSION_ONLY = ("AIRFLOW_HOME", "AIRFLOW__", "AIRFLOW_CONN_", "PIPELINE_", "KAFKA_BOOTSTRAP", "LOCAL_AWS_ENDPOINT")


@dataclass
class ThrowAwayStack:
    state_dir: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['AIRFLOW_API_PORT']}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.env['KAFKA_PORT']}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.env['LOCAL_AWS_PORT']}"

    def run(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)

    def make(self, target: str, *variables: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run("make", "--no-print-directory", target, *variables, timeout=timeout)

    def log(self, name: str) -> str:
        return (self.state_dir.parent / f"{name}.log").read_text(errors="replace")

    def up(self, name: str) -> subprocess.Popen[bytes]:
        """`make up` in the background, as in a terminal; returns once it printed its banner."""
        log = self.state_dir.parent / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["make", "--no-print-directory", "up"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 420
        while "Airflow UI" not in log.read_text(errors="replace"):
            if proc.poll() is not None:
                raise AssertionError(f"`make up` exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"`make up` printed no banner within 420 s:\n{log.read_text()[-4000:]}")
            time.sleep(1)  # polling the log for a condition, bounded by the deadline
        return proc

    def component_pids(self) -> dict[str, int]:
        run = self.state_dir / "run"
        return {name: int((run / f"airflow-{name}.pid").read_text()) for name in COMPONENTS}

    def service_pids(self) -> dict[str, int]:
        files = {
            "postgres": self.state_dir / "run" / "postgres.pid",
            "kafka": self.state_dir / "kafka" / "kafka.pid",
            "local-aws": self.state_dir / "run" / "local-aws.pid",
        }
        return {name: int(path.read_text()) for name, path in files.items()}

    def client(self) -> AirflowClient:
        return AirflowClient(self.url, "admin", "admin")


@contextlib.contextmanager
def throwaway_stack(name: str, **settings: str) -> Iterator[ThrowAwayStack]:
    """A stack under the session's state directory (not /tmp/pytest-of-*, which the `postgres` user
    cannot enter), with `settings` as extra environment; stopped, and nothing of it left, afterwards."""
    import uuid

    base = Path(os.environ.get("STATE_DIR", ROOT / ".state")) / f"{name}-{uuid.uuid4().hex[:8]}"
    state_dir = base / ".state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(SESSION_ONLY)}
    env.update(
        STATE_DIR=str(state_dir),
        KAFKA_PORT=str(free_port()),
        KAFKA_CONTROLLER_PORT=str(free_port()),
        LOCAL_AWS_PORT=str(free_port()),
        AIRFLOW_API_PORT=str(free_port()),
        POSTGRES_PORT=str(free_port()),
        **settings,
    )
    base.mkdir(parents=True)
    stack = ThrowAwayStack(state_dir=state_dir, env=env)
    try:
        yield stack
    finally:
        stack.make("stop", timeout=300)
        for pid in pids_with_argument(str(state_dir)):  # anything `make stop` missed would be a bug: leave nothing
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False
