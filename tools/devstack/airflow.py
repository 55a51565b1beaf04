"""Airflow for the local stack: migrate, run api-server, scheduler, dag-processor and triggerer, drive REST."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from devstack.config import StackConfig, airflow_env
from devstack.processes import ManagedProcess, StackError, http_ok, port_open, wait_until

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
PIPELINE_DAGS = ("stock_market_setup", "stock_market_simulator", "stock_market_ingest", "stock_market_catalog")
# Real Athena caps concurrent queries per account; the catalog DAG's queries share this pool.
POOLS = {"athena": (4, "Concurrent Athena queries of the catalog DAG")}


def component(cfg: StackConfig, name: str) -> ManagedProcess:
    return ManagedProcess(f"airflow-{name}", cfg.run_dir, cfg.log_dir)


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


def prepare(cfg: StackConfig, extra_env: dict[str, str] | None = None) -> None:
    """Migrate the metadata DB and write the local admin's password (documented: admin/admin)."""
    home = cfg.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    (home / "passwords.json").write_text(json.dumps({cfg.admin_user: cfg.admin_password}))
    print(f"[airflow] migrating the metadata DB in {home}", flush=True)
    result = cli(cfg, "db", "migrate", extra_env=extra_env)
    if result.returncode != 0:
        raise StackError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def start(cfg: StackConfig, extra_env: dict[str, str] | None = None) -> None:
    api = component(cfg, "api-server")
    if api.pid() is None and port_open(cfg.airflow_host, cfg.airflow_port):
        raise StackError(
            f"port {cfg.airflow_host}:{cfg.airflow_port} is taken by another process; stop it or set AIRFLOW_API_PORT"
        )
    env = full_env(cfg, extra_env)
    for name in COMPONENTS:
        argv = [sys.executable, "-m", "airflow", name]
        if name == "api-server":
            argv += ["--host", cfg.airflow_host, "--port", str(cfg.airflow_port)]
        component(cfg, name).start(argv, env=env, cwd=cfg.root)
    wait_until(
        lambda: http_ok(f"{cfg.airflow_url}/api/v2/monitor/health"),
        180,
        f"the Airflow api-server on {cfg.airflow_url}",
        api,
    )
    print(f"[airflow] api-server ready on {cfg.airflow_url}", flush=True)


def stop(cfg: StackConfig) -> None:
    # Scheduler first, so it stops handing out work; the api-server last, as running tasks report to it.
    for name in ("scheduler", "triggerer", "dag-processor", "api-server"):
        if component(cfg, name).stop(timeout=45):
            print(f"[airflow] {name} stopped", flush=True)


def running(cfg: StackConfig) -> bool:
    return any(component(cfg, name).pid() for name in COMPONENTS)


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
            raise StackError(f"{method} {path} -> HTTP {exc.code}: {detail}") from exc
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

    def ensure_pool(self, name: str, slots: int, description: str) -> None:
        try:
            self.get(f"/api/v2/pools/{name}")
            self.patch(f"/api/v2/pools/{name}", {"name": name, "slots": slots, "description": description})
        except StackError:
            self.post("/api/v2/pools", {"name": name, "slots": slots, "description": description})

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
    """Pools, unpaused DAGs and a setup run: what a fresh `make up` needs. Returns the setup run id."""
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
    for name, (slots, description) in POOLS.items():
        api.ensure_pool(name, slots, description)
    for dag_id in dags:
        api.unpause(dag_id)
    return api.trigger("stock_market_setup")
