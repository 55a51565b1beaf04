"""Background processes with PID files: start once, wait until ready, stop only what we started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A service could not be started or stopped; the message says which and where its log is."""


@dataclass(frozen=True)
class ManagedProcess:
    """A named background process whose PID lives in `run_dir/<name>.pid`."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The PID if the process we started is still alive (a stale PID file counts as stopped)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        # A recycled PID belongs to someone else: only trust it if it is still our process group leader.
        try:
            if os.getpgid(pid) != pid:
                return None
        except ProcessLookupError:
            return None
        return pid

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
        existing = self.pid()
        if existing:
            return existing
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Own process group: Ctrl-C in the terminal reaches our stop path, which shuts the
                # services down in order, and stop() can signal the whole group (gunicorn/uvicorn
                # workers, executor children) without touching anything else.
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout: float = 30.0, sig: int = signal.SIGTERM) -> bool:
        """Stop the process group we started; returns False when nothing was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _group_alive(pid):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _group_alive(pgid: int) -> bool:
    # Reap first: a zombie leader that is our own child would otherwise keep the group "alive".
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    with socket.socket() as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    process: ManagedProcess | None = None,
    interval: float = 0.25,
) -> None:
    """Poll `condition`; fail early if `process` died, with the tail of its log in the message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.pid() is None:
            raise StackError(f"{process.name} exited while waiting for {what}:\n{process.tail()}")
        time.sleep(interval)
    log_hint = f"\nlast lines of {process.log_file}:\n{process.tail()}" if process else ""
    raise StackError(f"timed out after {timeout:.0f}s waiting for {what}{log_hint}")
