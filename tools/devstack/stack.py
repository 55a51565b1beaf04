"""The whole local stack: `make up` (one at a time), `make stop` and `make status`.

`up` holds an exclusive lock on `$STATE_DIR/run/up.lock` for its lifetime, so a second `make up` on the
same state refuses before touching anything, and the kernel releases the lock however the first one
ends. On the way out `up` stops only what it started: services that `make services` started before it
keep running. `make stop` asks a running `up` to stop (SIGTERM, as Ctrl-C would), waits for it, then
stops whatever is left.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from devstack import airflow, postgres, redis, services
from devstack.config import StackConfig
from devstack.processes import StackError


def _lock_path(cfg: StackConfig) -> Path:
    return cfg.run_dir / "up.lock"


def up_holder(cfg: StackConfig) -> int | None:
    """The PID of the `make up` holding the lock, or None when no `up` runs on this state."""
    path = _lock_path(cfg)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(holder) if holder.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def up_lock(cfg: StackConfig) -> Iterator[None]:
    """Hold the stack's `up` lock, or refuse with the PID of the `make up` that holds it."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(_lock_path(cfg), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise StackError(f"the stack is already running (pid {holder}); `make stop` first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _refuse_if_airflow_runs(cfg: StackConfig) -> None:
    running = airflow.running_components(cfg)
    if running:
        listed = ", ".join(f"{name} pid {pid}" for name, pid in running.items())
        raise StackError(f"Airflow is already running ({listed}); `make stop` first")


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def up(cfg: StackConfig) -> int:
    """Services + Airflow in the foreground until Ctrl-C, SIGTERM, `make stop` or a component's death."""
    signal.signal(signal.SIGTERM, _interrupt)  # `make stop` and kill: the same clean path as Ctrl-C
    with up_lock(cfg):
        _refuse_if_airflow_runs(cfg)
        started: list[str] = []
        airflow_started = False
        try:
            started = services.start_services(cfg)
            airflow.prepare(cfg)
            airflow_started = True
            airflow.start(cfg)
            run_id = airflow.bootstrap_pipeline(cfg)
            _print_banner(cfg, run_id)
            airflow.activate_pipeline(cfg, run_id)
            return _watch(cfg)
        except StackError as exc:
            print(f"[up] ERROR: {exc}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("\n[up] stopping what this `make up` started (data is kept)", flush=True)
            if airflow_started:
                airflow.stop(cfg)
            services.stop_services(cfg, only=started)


def _watch(cfg: StackConfig) -> int:
    """Wait while Airflow runs (Ctrl-C and `make stop` interrupt the wait); a component's death ends it."""
    while True:
        time.sleep(1.0)
        dead = [name for name in airflow.components(cfg) if airflow.component(cfg, name).pid() is None]
        if dead:
            print(f"[up] Airflow {', '.join(dead)} exited; see {cfg.log_dir}. Stopping.", file=sys.stderr, flush=True)
            return 1


def _print_banner(cfg: StackConfig, run_id: str) -> None:
    database = (
        f"PostgreSQL {cfg.postgres_host}:{cfg.postgres_port}/{cfg.metadata_db}"
        if cfg.uses_local_postgres
        else "from AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
    )
    print(
        "\n"
        "  Airflow UI   " + cfg.airflow_url + "\n"
        f"  login        {cfg.admin_user} / {cfg.admin_password}   (local only; set AIRFLOW_ADMIN_PASSWORD)\n"
        f"  setup run    stock_market_setup / {run_id}   (the simulator, ingest and catalog start after it)\n"
        f"  Kafka        {cfg.kafka_bootstrap}\n"
        f"  AWS endpoint {cfg.aws_endpoint}\n"
        f"  executor     {_executor_line(cfg)}\n"
        f"  metadata DB  {database}\n"
        f'  Airflow CLI  scripts/airflow ...   (or make airflow ARGS="...")\n'
        f"  logs         {cfg.log_dir}\n"
        "\n  Ctrl-C (or `make stop`) stops everything started here; data stays in " + str(cfg.state_dir) + "\n",
        flush=True,
    )


def _executor_line(cfg: StackConfig) -> str:
    if not cfg.celery:
        return "LocalExecutor (EXECUTOR=celery for Redis and Celery workers)"
    return (
        f"CeleryExecutor: {cfg.celery_workers} workers x {cfg.celery_concurrency} slots, "
        f"Redis {cfg.redis_host}:{cfg.redis_port}"
    )


def stop(cfg: StackConfig, timeout: float = 300) -> None:
    """`make stop`: a running `make up` stops what it started; then Airflow, the services, PostgreSQL last."""
    holder = up_holder(cfg)
    if holder and holder > 0:
        print(f"[stop] asking `make up` (pid {holder}) to stop", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.kill(holder, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while up_holder(cfg) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
    airflow.stop(cfg)
    services.stop_services(cfg)


RESTARTABLE = ("kafka", "local-aws", "postgres", "redis")


def restart(cfg: StackConfig, name: str) -> None:
    """Restart one service under a running stack; its data is kept. Airflow restarts through `make up`."""
    if name == "airflow":
        raise StackError(
            "Airflow runs in the foreground of `make up`: stop it (Ctrl-C or `make stop`) and run `make up` "
            "again; start the services with `make services` first and only Airflow restarts"
        )
    if name == "postgres" and airflow.running(cfg):
        raise StackError(
            "Airflow is using the metadata database: restart the database with the whole stack "
            "(`make stop`, then `make up`)"
        )
    if name == "kafka":
        services.stop_kafka(cfg)
        services.start_kafka(cfg)
    elif name == "local-aws":
        services.stop_local_aws(cfg)
        services.start_local_aws(cfg)
    elif name == "postgres":
        postgres.stop(cfg)
        postgres.start(cfg)
    elif name == "redis":
        redis.stop(cfg)
        redis.start(cfg)
    else:
        raise StackError(f"unknown service {name!r}: one of {', '.join((*RESTARTABLE, 'airflow'))}")


def status(cfg: StackConfig) -> list[tuple[str, str]]:
    rows = [("postgres", postgres.status(cfg) if cfg.uses_local_postgres else "not used (external metadata DB)")]
    rows.append(("kafka", services.kafka_status(cfg)))
    pid = services.aws_process(cfg).pid()
    rows.append(("local-aws", f"running (pid {pid}) on {cfg.aws_endpoint}" if pid else "stopped"))
    rows.append(("redis", redis.status(cfg)))
    running = airflow.running_components(cfg)
    for name in dict.fromkeys((*airflow.components(cfg), *running)):
        pid = running.get(name)
        where = f" on {cfg.airflow_url}" if name == "api-server" else ""
        rows.append((f"airflow {name}", f"running (pid {pid}){where}" if pid else "stopped"))
    return rows
