"""Shared by the local AWS benchmarks: a private ``python -m local_aws`` endpoint, boto3 clients for
it, and tick objects (Parquet, the raw table's columns) to upload.

Each benchmark starts its own endpoint on a free port with a temporary state dir, so its figures
do not depend on what else the services of ``scripts/bench.sh`` hold.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START_TIMEOUT_S = 60
SYMBOLS = np.array([f"SYM{i:02d}" for i in range(50)])
TICK_SCHEMA = pa.schema(
    [
        ("schema_version", pa.int32()),
        ("event_type", pa.string()),
        ("symbol", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("seq", pa.int64()),
        ("price", pa.float64()),
        ("size", pa.int64()),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
    ]
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_endpoint(*extra_args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``python -m local_aws`` on a free port and a temporary state dir; yield (url, process).

    The endpoint's log is printed if it fails to start; it is stopped (SIGTERM) on exit.
    """
    with tempfile.TemporaryDirectory(prefix="bench-local-aws-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = os.path.join(tmp, "endpoint.log")
        with open(log_path, "wb") as log:
            cmd = [sys.executable, "-m", "local_aws", "--port", str(port), "--state-dir", os.path.join(tmp, "state")]
            proc = subprocess.Popen([*cmd, *extra_args], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_local_aws/health", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        with open(log_path, errors="replace") as fh:
                            raise SystemExit(f"local_aws did not become healthy:\n{fh.read()[-3000:]}") from None
                    time.sleep(0.05)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def clients(url: str, *services: str) -> list[Any]:
    """boto3 clients for ``url`` with dummy credentials (the local endpoint accepts any)."""
    session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    return [session.client(service, endpoint_url=url) for service in services]


def tick_object(index: int, rows: int, dt: str, hour: int) -> bytes:
    """A Parquet object of ``rows`` ticks in the hour ``dt``/``hour``, reproducible from ``index``."""
    rng = np.random.default_rng(index)
    start = np.datetime64(dt, "us") + np.timedelta64(hour, "h")
    offsets = np.sort(rng.integers(0, 3_600_000_000, rows)).astype("timedelta64[us]")
    price = 100 + rng.normal(0, 5, rows)
    table = pa.table(
        {
            "schema_version": pa.array(np.ones(rows, dtype=np.int32)),
            "event_type": pa.array(np.where(rng.random(rows) < 0.5, "trade", "quote")),
            "symbol": pa.array(SYMBOLS[rng.integers(0, len(SYMBOLS), rows)]),
            "event_time": pa.array(start + offsets, pa.timestamp("us", tz="UTC")),
            "seq": pa.array(np.arange(index * rows, (index + 1) * rows, dtype=np.int64)),
            "price": pa.array(price),
            "size": pa.array(rng.integers(1, 1000, rows, dtype=np.int64)),
            "bid": pa.array(price - 0.01),
            "ask": pa.array(price + 0.01),
        },
        schema=TICK_SCHEMA,
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()
