"""The metadata database's server (tools/devstack/postgres.py) on its own state directory and port.

Kept data across a stop and a start, a stop that leaves no process behind even with a client connected,
and the clear errors a user meets: a taken port names POSTGRES_PORT, a cluster of another major names
POSTGRES_BIN_DIR.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import postgres
from devstack.config import StackConfig, postgres_url
from devstack.processes import StackError, free_port, pids_with_argument
from tests.support import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture
def server_cfg() -> Iterator[StackConfig]:
    # Under the session's state directory: as root the server runs as `postgres`, which must reach it.
    state = Path(os.environ.get("STATE_DIR", ROOT / ".state")) / f"pg-{uuid.uuid4().hex[:8]}"
    cfg = StackConfig(state_dir=state, postgres_port=free_port())
    yield cfg
    postgres.stop(cfg)
    for pid in pids_with_argument(str(state)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(state, ignore_errors=True)


def _airflow_role_connection(cfg: StackConfig, database: str):
    import psycopg

    url = postgres_url(cfg, database).replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True)


def test_data_survives_a_stop_and_a_start_and_stop_leaves_no_process(server_cfg: StackConfig) -> None:
    cfg = server_cfg
    assert postgres.start(cfg) is True
    assert postgres.start(cfg) is False, "a second start finds it running"
    assert postgres.create_database(cfg, "kept") is True
    with _airflow_role_connection(cfg, "kept") as conn:
        conn.execute("CREATE TABLE t (v text)")
        conn.execute("INSERT INTO t VALUES ('before the restart')")

    idle = _airflow_role_connection(cfg, "kept")  # fast shutdown ends open sessions instead of waiting
    try:
        assert postgres.stop(cfg) is True
    finally:
        with contextlib.suppress(Exception):
            idle.close()
    assert not pids_with_argument(str(postgres.data_dir(cfg))), "a server process outlived stop"
    assert postgres.status(cfg) == "stopped"

    assert postgres.start(cfg) is True
    assert postgres.create_database(cfg, "kept") is False, "the database is still there"
    with _airflow_role_connection(cfg, "kept") as conn:
        assert conn.execute("SELECT v FROM t").fetchall() == [("before the restart",)]
    assert postgres.create_database(cfg, "kept", fresh=True) is True
    with _airflow_role_connection(cfg, "kept") as conn:
        assert conn.execute("SELECT to_regclass('t')").fetchone() == (None,), "fresh means empty"


def test_a_taken_port_names_postgres_port(server_cfg: StackConfig) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cfg = dataclasses.replace(server_cfg, postgres_port=taken.getsockname()[1])
        with pytest.raises(StackError, match=r"is taken by another process.*set POSTGRES_PORT"):
            postgres.start(cfg)
    assert not postgres.data_dir(cfg).exists(), "nothing initialised for a server that cannot listen"


def test_a_cluster_of_another_major_is_refused_with_the_way_out(server_cfg: StackConfig) -> None:
    data = postgres.data_dir(server_cfg)
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text(f"{postgres.POSTGRES_MAJOR - 1}\n")
    with pytest.raises(StackError, match=r"created by PostgreSQL \d+ .*POSTGRES_BIN_DIR.*make clean-state"):
        postgres.start(server_cfg)


def test_an_unreachable_server_says_how_to_start_it(server_cfg: StackConfig) -> None:
    with pytest.raises(StackError, match="make services"):
        postgres.create_database(server_cfg, "nothing")
