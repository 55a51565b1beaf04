"""Airflow for the local stack: migrate, run api-server, scheduler, dag-processor and triggerer, drive REST."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from devstack import postgres
from devstack.config import StackConfig, airflow_env
from devstack.processes import ManagedProcess, StackError, http_ok, require_free_port, wait_until
from devstack.worker_identity import HOSTNAME_ENV

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
WORKER_PREFIX = "celery-worker-"
SETUP_DAG = "stock_market_setup"
# Unpaused once setup has succeeded: none of them may run before the topic, bucket and catalog exist.
FED_DAGS = ("stock_market_simulator", "stock_market_ingest", "stock_market_catalog")
PIPELINE_DAGS = (SETUP_DAG, *FED_DAGS)
# Real Athena caps concurrent queries per account; the catalog DAG's queries share this pool
# (pipeline_airflow.defaults.ATHENA_POOL names it; a test checks they agree).
POOLS = {"athena": (4, "Concurrent Athena queries of the catalog DAG")}


def component(cfg: StackConfig, name: str) -> ManagedProcess:
    return ManagedProcess(f"airflow-{name}", cfg.run_dir, cfg.log_dir)


def worker_names(cfg: StackConfig) -> tuple[str, ...]:
    """The Celery workers this configuration runs (none on the LocalExecutor)."""
    return tuple(f"{WORKER_PREFIX}{i}" for i in range(1, cfg.celery_workers + 1)) if cfg.celery else ()


def components(cfg: StackConfig) -> tuple[str, ...]:
    """Every Airflow process this configuration runs: the four components, then its Celery workers."""
    return COMPONENTS + worker_names(cfg)


def running_components(cfg: StackConfig) -> dict[str, int]:
    """What runs now, whatever it was started with (a stop must also find workers of an earlier `up`)."""
    names = list(COMPONENTS)
    names += sorted(p.stem.removeprefix("airflow-") for p in cfg.run_dir.glob(f"airflow-{WORKER_PREFIX}*.pid"))
    found = {name: component(cfg, name).pid() for name in names}
    return {name: pid for name, pid in found.items() if pid}


def worker_hostname(name: str) -> str:
    """What a local worker reports as task_instance.hostname: distinct per worker on one machine."""
    return f"{socket.gethostname()}-{name}"


def full_env(cfg: StackConfig, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The components' environment: ours, then the stack's, then the caller's overrides."""
    return {**os.environ, **airflow_env(cfg), **(extra_env or {})}


def cli(
    cfg: StackConfig, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run an `airflow ...` CLI command against this stack's metadata DB."""
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env=full_env(cfg, extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def prepare(cfg: StackConfig, extra_env: dict[str, str] | None = None, fresh_db: bool = False) -> None:
    """Create (`fresh_db`: recreate) and migrate the metadata DB; write the local admin's password.

    The migration is idempotent: on an existing database it only applies what a newer Airflow adds."""
    home = cfg.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    (home / "passwords.json").write_text(json.dumps({cfg.admin_user: cfg.admin_password}))
    if cfg.uses_local_postgres:
        created = postgres.create_database(cfg, cfg.metadata_db, fresh=fresh_db)
        where = f"PostgreSQL database {cfg.metadata_db!r} ({'new' if created else 'existing'})"
    else:
        where = "the database named by AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
        if cfg.sql_alchemy_conn.startswith("sqlite"):
            print(
                "[airflow] WARNING: SQLite metadata DB: one writer at a time; backfills while the scheduler "
                "runs are unsupported (unset AIRFLOW__DATABASE__SQL_ALCHEMY_CONN for PostgreSQL)",
                file=sys.stderr,
                flush=True,
            )
    print(f"[airflow] migrating the metadata DB: {where}", flush=True)
    result = cli(cfg, "db", "migrate", extra_env=extra_env)
    if result.returncode != 0:
        raise StackError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def migrate_database(cfg: StackConfig, url: str, fresh: bool = False) -> None:
    """Migrate the metadata DB at `url` (the tests' dag.test() DB); on the stack's PostgreSQL server the
    database is created first (`fresh`: dropped and recreated, so every session starts empty)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    on_our_server = parsed.get_backend_name() == "postgresql" and (parsed.host, parsed.port) == (
        cfg.postgres_host,
        cfg.postgres_port,
    )
    if on_our_server and parsed.database:
        postgres.create_database(cfg, parsed.database, fresh=fresh)
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise StackError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def start(cfg: StackConfig, extra_env: dict[str, str] | None = None) -> None:
    api = component(cfg, "api-server")
    if api.pid() is None:
        require_free_port(cfg.airflow_host, cfg.airflow_port, "AIRFLOW_API_PORT")
    for name in COMPONENTS:
        start_component(cfg, name, extra_env)
    workers = start_workers(cfg, extra_env)
    wait_until(
        lambda: http_ok(f"{cfg.airflow_url}/api/v2/monitor/health"),
        180,
        f"the Airflow api-server on {cfg.airflow_url}",
        api,
    )
    print(f"[airflow] api-server ready on {cfg.airflow_url} ({cfg.executor} executor)", flush=True)
    # Before any DAG is unpaused: a task in a pool that does not exist is never scheduled.
    rest = client(cfg)
    for name, (slots, description) in POOLS.items():
        rest.ensure_pool(name, slots, description)
    for name, (proc, offset) in workers.items():
        wait_until(lambda proc=proc, offset=offset: _worker_ready(proc, offset), 180, f"Celery worker {name}", proc)
        print(f"[airflow] {name} ready ({cfg.celery_concurrency} task slots, host {worker_hostname(name)})", flush=True)


def start_component(cfg: StackConfig, name: str, extra_env: dict[str, str] | None = None) -> int:
    """Start one of the four components (e.g. the scheduler again, on another executor)."""
    argv = [sys.executable, "-m", "airflow", name]
    if name == "api-server":
        argv += ["--host", cfg.airflow_host, "--port", str(cfg.airflow_port)]
    return component(cfg, name).start(argv, env=full_env(cfg, extra_env), cwd=cfg.root)


def start_workers(cfg: StackConfig, extra_env: dict[str, str] | None = None) -> dict[str, tuple[ManagedProcess, int]]:
    """Start the Celery workers (none on the LocalExecutor); returns each with its log's size before."""
    started = {}
    for name in worker_names(cfg):
        proc = component(cfg, name)
        offset = proc.log_file.stat().st_size if proc.log_file.exists() else 0
        env = {
            **full_env(cfg, extra_env),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "devstack.worker_identity.hostname",
            HOSTNAME_ENV: worker_hostname(name),
        }
        argv = [sys.executable, "-m", "airflow", "celery", "worker", "--celery-hostname", f"{name}@%h"]
        # Logs are read from the shared local folder: no log server (and no port) per worker.
        argv += ["--concurrency", str(cfg.celery_concurrency), "--skip-serve-logs"]
        proc.start(argv, env=env, cwd=cfg.root)
        started[name] = (proc, offset)
    return started


def _worker_ready(proc: ManagedProcess, offset: int) -> bool:
    """Celery logs `<name>@<host> ready.` once it consumes from the broker."""
    try:
        with proc.log_file.open("rb") as log:
            log.seek(offset)
            return b" ready." in log.read()
    except FileNotFoundError:
        return False


def stop(cfg: StackConfig) -> None:
    # Scheduler first, so it stops handing out work; then the workers (a warm shutdown lets running
    # tasks finish within the timeout); the api-server last, as running tasks report to it.
    workers = sorted(name for name in running_components(cfg) if name.startswith(WORKER_PREFIX))
    for name in ("scheduler", *workers, "triggerer", "dag-processor", "api-server"):
        if component(cfg, name).stop(timeout=45):
            print(f"[airflow] {name} stopped", flush=True)


def running(cfg: StackConfig) -> bool:
    return bool(running_components(cfg))


class AirflowClient:
    """A small REST v2 client with the local admin's bearer token."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._token: str | None = None

    def _request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self.token()}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise StackError(f"{method} {path} -> HTTP {exc.code}: {detail}", status=exc.code) from exc
        return json.loads(raw) if raw else None

    def token(self) -> str:
        if self._token is None:
            result = self._request("POST", "/auth/token", self._credentials, auth=False)
            self._token = result["access_token"]
        return self._token

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._request("PATCH", path, body)

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.get("/api/v2/dags?limit=100")["dags"]}

    def unpause(self, dag_id: str) -> None:
        self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = None) -> str:
        run = self.post(f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": conf or {}})
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def ensure_pool(self, name: str, slots: int, description: str, include_deferred: bool = False) -> None:
        """Create the pool or update it in place (a restart with the same state must not fail)."""
        # Airflow 3.3's PATCH validates the body as a whole pool: include_deferred is required.
        body = {"name": name, "slots": slots, "description": description, "include_deferred": include_deferred}
        if self.exists(f"/api/v2/pools/{name}"):
            self.patch(f"/api/v2/pools/{name}", body)
        else:
            self.post("/api/v2/pools", body)

    def exists(self, path: str) -> bool:
        try:
            self.get(path)
        except StackError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        state = "queued"
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            if state in ("success", "failed"):
                return state
            time.sleep(1)
        raise StackError(f"{dag_id} run {run_id} still {state} after {timeout:.0f}s")


def client(cfg: StackConfig) -> AirflowClient:
    return AirflowClient(cfg.airflow_url, cfg.admin_user, cfg.admin_password)


def bootstrap_pipeline(cfg: StackConfig, dags: tuple[str, ...] = PIPELINE_DAGS) -> str:
    """Wait for the DAGs to be parsed, then trigger a setup run (idempotent). Returns its run id."""
    api = client(cfg)
    present: set[str] = set()

    def dags_parsed() -> bool:
        present.update(api.dag_ids())
        return set(dags) <= present

    try:
        wait_until(dags_parsed, 180, f"the DAG processor to parse {', '.join(dags)}", component(cfg, "dag-processor"))
    except StackError as exc:
        missing = sorted(set(dags) - present)
        errors = api.get("/api/v2/importErrors")
        raise StackError(f"{exc}\nmissing DAGs: {missing}\nimport errors: {json.dumps(errors, indent=1)}") from exc
    api.unpause(SETUP_DAG)
    return api.trigger(SETUP_DAG)


def _activated_marker(cfg: StackConfig) -> Any:
    return cfg.airflow_home / "pipeline_activated"


def activate_pipeline(cfg: StackConfig, setup_run_id: str, timeout: float = 900) -> bool:
    """Unpause the simulator, ingest and catalog once setup succeeded, on this stack's first start only.

    Nothing may run before the topic, bucket and catalog exist (the first ingest runs used to race
    setup and fail with NoSuchBucket). Later starts leave the DAGs paused or unpaused as they were: a
    DAG you paused stays paused. Returns whether setup succeeded.
    """
    api = client(cfg)
    print(f"[up] waiting for setup ({SETUP_DAG} / {setup_run_id}) before the pipeline runs", flush=True)
    try:
        state = api.wait_for_run(SETUP_DAG, setup_run_id, timeout=timeout)
    except StackError as exc:
        state = f"did not finish ({exc})"
    if state != "success":
        print(
            f"[up] ERROR: setup run {setup_run_id} {state}: see it in the UI. The simulator, ingest and catalog "
            "stay paused; trigger stock_market_setup again, and once it succeeds unpause them.",
            file=sys.stderr,
            flush=True,
        )
        return False
    marker = _activated_marker(cfg)
    if marker.exists():
        print("[up] setup succeeded; the pipeline's DAGs keep the pause state you left them in", flush=True)
        return True
    for dag_id in FED_DAGS:
        api.unpause(dag_id)
    marker.write_text(f"{setup_run_id}\n")
    print(
        "[up] setup succeeded: stock_market_simulator (continuous feed), stock_market_ingest and "
        "stock_market_catalog are unpaused",
        flush=True,
    )
    return True
