"""PostgreSQL for Airflow's metadata: a real server whose data lives in `$STATE_DIR/postgres`.

Airflow calls SQLite a development-only database, and here it showed: one writer at a time, so a
backfill CLI met "database is locked" while the scheduler wrote, and parallel tasks queued on one file
lock. Every deployment of this pipeline (docker-compose, MWAA, Astronomer, the Helm chart) runs on
PostgreSQL, so the local stack and the tests do too.

The server listens on 127.0.0.1:$POSTGRES_PORT only, with no Unix socket (a long state path cannot
break it, and no system-wide socket directory is needed) and generated passwords kept in the state
directory. `initdb` runs once; restarts keep every DAG run, XCom and backfill.

Binaries, first found wins: `$POSTGRES_BIN_DIR`; Debian's `/usr/lib/postgresql/<POSTGRES_MAJOR>/bin`
(the major docker-compose uses); `pg_ctl` on PATH; any other `/usr/lib/postgresql/*/bin`. With none,
`scripts/ensure_postgres.sh` installs Debian's server when run as root, or says what to install.
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.config import AIRFLOW_DB_ROLE, StackConfig, local_secret
from devstack.processes import ManagedProcess, StackError, require_free_port, wait_until

# docker-compose.yaml pins the same major (tests/unit/test_compose.py checks it).
POSTGRES_MAJOR = 15
SUPERUSER = "postgres"
# Airflow's components each keep a small pool; the test suite runs a second stack and dag.test() beside it.
MAX_CONNECTIONS = 200


@dataclass(frozen=True)
class Binaries:
    bin_dir: Path
    major: int

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def _major(bin_dir: Path) -> int | None:
    postgres = bin_dir / "postgres"
    if not (postgres.is_file() and (bin_dir / "initdb").is_file()):
        return None
    try:
        out = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"PostgreSQL\)?\s+(\d+)", out)
    return int(match.group(1)) if match else None


def _candidates() -> list[Path]:
    explicit = os.environ.get("POSTGRES_BIN_DIR", "").strip()
    if explicit:
        return [Path(explicit)]
    found = [Path(f"/usr/lib/postgresql/{POSTGRES_MAJOR}/bin")]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        found.append(Path(pg_ctl).resolve().parent)
    others = Path("/usr/lib/postgresql").glob("*/bin")
    found += sorted(others, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    return found


def find_binaries() -> Binaries | None:
    for bin_dir in _candidates():
        major = _major(bin_dir)
        if major is not None:
            return Binaries(bin_dir, major)
    return None


def ensure_binaries(cfg: StackConfig) -> Binaries:
    """The server binaries, installed from Debian's packages (as root) on first use if none are found."""
    bins = find_binaries()
    if bins is None:
        script = cfg.root / "scripts" / "ensure_postgres.sh"
        result = subprocess.run([str(script)], env={**os.environ, "POSTGRES_MAJOR": str(POSTGRES_MAJOR)})
        bins = find_binaries() if result.returncode == 0 else None
    if bins is None:
        where = os.environ.get("POSTGRES_BIN_DIR") or "PATH and /usr/lib/postgresql/*/bin"
        raise StackError(
            f"no PostgreSQL server binaries (postgres, initdb) in {where}: install PostgreSQL {POSTGRES_MAJOR} "
            f"(e.g. `sudo apt-get install postgresql-{POSTGRES_MAJOR}`) or set POSTGRES_BIN_DIR to its bin directory"
        )
    return bins


def _server_uid() -> int | None:
    """The user the server runs as: ourselves, or `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("POSTGRES_RUN_AS", "").strip() or "postgres"
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise StackError(
            f"PostgreSQL does not run as root and there is no user {name!r} to run it as: "
            "create one (`useradd --system postgres`) or set POSTGRES_RUN_AS to an unprivileged user"
        ) from None


def data_dir(cfg: StackConfig) -> Path:
    return cfg.state_dir / "postgres" / "data"


def server_process(cfg: StackConfig) -> ManagedProcess:
    return ManagedProcess("postgres", cfg.run_dir, cfg.log_dir)


def _chown(path: Path, uid: int | None) -> None:
    if uid is not None:
        os.chown(path, uid, pwd.getpwuid(uid).pw_gid)


def _initdb(cfg: StackConfig, bins: Binaries, uid: int | None) -> None:
    data = data_dir(cfg)
    version_file = data / "PG_VERSION"
    if version_file.exists():
        made_by = int(version_file.read_text().strip())
        if made_by != bins.major:
            raise StackError(
                f"{data} was created by PostgreSQL {made_by} but the binaries in {bins.bin_dir} are "
                f"PostgreSQL {bins.major}: set POSTGRES_BIN_DIR to PostgreSQL {made_by}'s bin directory, "
                "or delete the local data with `make clean-state`"
            )
        return
    print(f"[postgres] initialising a PostgreSQL {bins.major} cluster in {data} (first run only)", flush=True)
    # A previous initdb that was interrupted leaves files without PG_VERSION: nothing in them to keep.
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    data.chmod(0o700)
    _chown(data, uid)
    password_file = data.parent / "initdb.pw"
    password_file.write_text(local_secret(cfg, "postgres_superuser") + "\n")
    password_file.chmod(0o600)
    _chown(password_file, uid)
    try:
        result = subprocess.run(
            [
                bins.tool("initdb"),
                "--pgdata",
                str(data),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(password_file),
                "--auth-host",
                "scram-sha-256",
                "--auth-local",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
            ],
            cwd=data,
            user=uid,
            group=None if uid is None else pwd.getpwuid(uid).pw_gid,
            extra_groups=None if uid is None else [],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        password_file.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise StackError(f"initdb failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def _connect(cfg: StackConfig, dbname: str = "postgres", timeout: int = 5) -> Any:
    import psycopg

    return psycopg.connect(
        host=cfg.postgres_host,
        port=cfg.postgres_port,
        user=SUPERUSER,
        password=local_secret(cfg, "postgres_superuser"),
        dbname=dbname,
        connect_timeout=timeout,
        autocommit=True,
    )


def accepts_connections(cfg: StackConfig) -> bool:
    import psycopg

    try:
        with _connect(cfg, timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def admin(cfg: StackConfig) -> Iterator[Any]:
    """A superuser connection (autocommit) to the stack's server; a clear error when it is down."""
    import psycopg

    try:
        conn = _connect(cfg)
    except psycopg.OperationalError as exc:
        raise StackError(
            f"PostgreSQL is not reachable on {cfg.postgres_host}:{cfg.postgres_port} ({exc}): "
            "start it with `make services` (or `make up`)"
        ) from exc
    with conn:
        yield conn


def _ensure_role(cfg: StackConfig) -> None:
    from psycopg import sql

    password = sql.Literal(local_secret(cfg, "postgres_airflow"))
    role = sql.Identifier(AIRFLOW_DB_ROLE)
    with admin(cfg) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (AIRFLOW_DB_ROLE,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(role, password))


def create_database(cfg: StackConfig, name: str, fresh: bool = False) -> bool:
    """Create database `name` owned by the Airflow role; `fresh` drops an existing one first.

    Returns True when the database was created (a new, empty one)."""
    from psycopg import sql

    _ensure_role(cfg)
    with admin(cfg) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = False
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(AIRFLOW_DB_ROLE))
            )
    return not exists


def drop_database(cfg: StackConfig, name: str) -> None:
    from psycopg import sql

    with admin(cfg) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def start(cfg: StackConfig) -> bool:
    """Start the server (initdb on first use); returns False when it was already running."""
    proc = server_process(cfg)
    if proc.pid() is not None:
        print(f"[postgres] already running (pid {proc.pid()}) on {cfg.postgres_host}:{cfg.postgres_port}", flush=True)
        return False
    require_free_port(cfg.postgres_host, cfg.postgres_port, "POSTGRES_PORT")
    bins = ensure_binaries(cfg)
    uid = _server_uid()
    _initdb(cfg, bins, uid)
    data = data_dir(cfg)
    argv = [
        bins.tool("postgres"),
        "-D",
        str(data),
        "-h",
        cfg.postgres_host,
        "-p",
        str(cfg.postgres_port),
        "-k",
        "",  # no Unix socket: TCP on the loopback only
        "-c",
        f"max_connections={MAX_CONNECTIONS}",
        "-c",
        "logging_collector=off",
        "-c",
        "log_min_messages=warning",
    ]
    proc.start(argv, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}, cwd=data, user=uid)
    wait_until(
        lambda: accepts_connections(cfg),
        90,
        f"PostgreSQL on {cfg.postgres_host}:{cfg.postgres_port}",
        proc,
    )
    _ensure_role(cfg)
    print(
        f"[postgres] ready: {cfg.postgres_host}:{cfg.postgres_port}, PostgreSQL {bins.major} "
        f"from {bins.bin_dir} (data in {data})",
        flush=True,
    )
    return True


def stop(cfg: StackConfig) -> bool:
    """Fast shutdown (SIGINT to the postmaster: open sessions are ended, nothing committed is lost)."""
    if server_process(cfg).stop(timeout=60, sig=signal.SIGINT, leader_only=True):
        print("[postgres] stopped", flush=True)
        return True
    return False


def status(cfg: StackConfig) -> str:
    pid = server_process(cfg).pid()
    if pid is None:
        return "stopped"
    return f"running (pid {pid}) on {cfg.postgres_host}:{cfg.postgres_port}, database {cfg.metadata_db}"
