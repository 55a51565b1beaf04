"""Fixtures that start a REAL local_aws endpoint process and hand out real boto3 clients.

Why a subprocess: the tests must exercise the same HTTP surface boto3, PyAthena and the Airflow
provider use, and the restart tests need to kill and restart the process on the same state dir.
Synchronisation is by polling ``GET /_local_aws/health`` with a deadline, never by sleeping blindly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.local_aws.la_helpers import CrawlWorld

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port that is free right now on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "") -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate} (last={last!r})")


@dataclass
class EndpointProcess:
    """A running ``python -m local_aws`` process; restartable on the same state dir."""

    state_dir: Path
    port: int = field(default_factory=free_port)
    sync_wait: float = 0.0
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_local_aws/health", timeout=2) as resp:
                return resp.status == 200 and json.loads(resp.read()) == {"status": "ok"}
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def start(self) -> None:
        self.log_path = self.state_dir.parent / f"endpoint-{self.port}-{int(time.time() * 1000)}.log"
        log = self.log_path.open("wb")
        env = dict(os.environ)
        env.pop("AWS_ENDPOINT_URL", None)
        env.update(self.env)
        cmd = [
            sys.executable, "-m", "local_aws",
            "--port", str(self.port),
            "--state-dir", str(self.state_dir),
            "--sync-wait", str(self.sync_wait),
            *self.extra_args,
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"local_aws exited with {self.proc.returncode}:\n{self.read_log()}")
            if self.healthy():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"local_aws not healthy after {START_TIMEOUT}s:\n{self.read_log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Stop the process with ``sig`` and return its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        code = self.proc.returncode
        self.proc = None
        return code

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    def read_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


@pytest.fixture(scope="session", autouse=True)
def _aws_env() -> Iterator[None]:
    """Dummy credentials so no test can ever talk to real AWS with real keys."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    )
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def local_aws_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointProcess]:
    """One endpoint process shared by the session (state dir in a temp folder)."""
    endpoint = EndpointProcess(state_dir=tmp_path_factory.mktemp("local_aws_session") / "state")
    endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def local_aws_endpoint(local_aws_process: EndpointProcess) -> str:
    """The URL of the shared running endpoint, e.g. ``http://127.0.0.1:40123``."""
    return local_aws_process.url


@pytest.fixture
def endpoint_factory(tmp_path: Path) -> Iterator[Callable[..., EndpointProcess]]:
    """Start private endpoint processes (own state dir, options, env); all stopped at teardown."""
    started: list[EndpointProcess] = []

    def make(
        sync_wait: float = 0.0, env: dict[str, str] | None = None, extra_args: list[str] | None = None
    ) -> EndpointProcess:
        endpoint = EndpointProcess(
            state_dir=tmp_path / f"state{len(started)}",
            sync_wait=sync_wait,
            env=env or {},
            extra_args=extra_args or [],
        )
        endpoint.start()
        started.append(endpoint)
        return endpoint

    yield make
    for endpoint in started:
        endpoint.stop()


@pytest.fixture
def fresh_endpoint(endpoint_factory: Callable[..., EndpointProcess]) -> EndpointProcess:
    """A private endpoint process for tests that restart or stop it."""
    return endpoint_factory()


@pytest.fixture(scope="session")
def boto3_session_factory() -> Callable[[str], Any]:
    """Return ``make(endpoint_url) -> callable(service_name) -> boto3 client`` with test credentials."""

    def make(endpoint_url: str) -> Callable[[str], Any]:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )

        def client(service: str, **kwargs: Any) -> Any:
            return session.client(service, endpoint_url=endpoint_url, **kwargs)

        return client

    return make


@pytest.fixture(scope="session")
def aws_client(local_aws_endpoint: str, boto3_session_factory: Callable[[str], Any]) -> Callable[..., Any]:
    """``aws_client("s3")`` -> a boto3 client bound to the shared endpoint."""
    return boto3_session_factory(local_aws_endpoint)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A bucket/database-safe name unique to the test (lowercase, hyphen-free for Glue)."""
    base = "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:30].strip("_")
    return f"{base}_{int(time.time() * 1000) % 10_000_000}"


def make_world(client: Callable[[str], Any], name: str) -> CrawlWorld:
    bucket = name.replace("_", "-")[:60]
    s3, glue = client("s3"), client("glue")
    s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": name})
    return CrawlWorld(s3=s3, glue=glue, bucket=bucket, database=name)


@pytest.fixture
def world(aws_client: Callable[[str], Any], unique_name: str) -> CrawlWorld:
    """A fresh bucket + Glue database on the shared endpoint."""
    return make_world(aws_client, unique_name)
