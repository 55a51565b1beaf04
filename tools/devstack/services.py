"""The services under Airflow: PostgreSQL (its metadata), Kafka and the local AWS endpoint.

Each start reports whether it started the service, so a caller stops only what it started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Collection

from devstack import postgres, redis
from devstack.config import StackConfig
from devstack.processes import ManagedProcess, StackError, http_ok, require_free_port, wait_until


def _kafka_env(cfg: StackConfig) -> dict[str, str]:
    return {
        **os.environ,
        "STATE_DIR": str(cfg.state_dir),
        "KAFKA_HOST": cfg.kafka_host,
        "KAFKA_PORT": str(cfg.kafka_port),
        "PYTHON": sys.executable,
    }


def kafka_running(cfg: StackConfig) -> bool:
    script = str(cfg.root / "scripts" / "kafka.sh")
    return subprocess.run([script, "status"], env=_kafka_env(cfg), capture_output=True).returncode == 0


def start_kafka(cfg: StackConfig) -> bool:
    """Start the broker; returns False when it was already running."""
    if kafka_running(cfg):
        print(f"[kafka] already running on {cfg.kafka_bootstrap}", flush=True)
        return False
    result = subprocess.run([str(cfg.root / "scripts" / "kafka.sh"), "start"], env=_kafka_env(cfg))
    if result.returncode != 0:
        stop_kafka(cfg)  # a broker still starting would otherwise outlive the failed start
        raise StackError("Kafka did not start (see the messages above and `scripts/kafka.sh logs`)")
    return True


def stop_kafka(cfg: StackConfig) -> None:
    subprocess.run([str(cfg.root / "scripts" / "kafka.sh"), "stop"], env=_kafka_env(cfg), check=False)


def aws_process(cfg: StackConfig) -> ManagedProcess:
    return ManagedProcess("local-aws", cfg.run_dir, cfg.log_dir)


def start_local_aws(cfg: StackConfig, sync_wait: float | None = None) -> bool:
    """Start the endpoint; returns False when it was already running."""
    proc = aws_process(cfg)
    health = f"{cfg.aws_endpoint}/_local_aws/health"
    if proc.pid() is not None:
        print(f"[local-aws] already running (pid {proc.pid()}) on {cfg.aws_endpoint}", flush=True)
        return False
    require_free_port(cfg.aws_host, cfg.aws_port, "LOCAL_AWS_PORT")
    wait = os.environ.get("LOCAL_AWS_SYNC_WAIT", "") if sync_wait is None else str(sync_wait)
    argv = [
        sys.executable,
        "-m",
        "local_aws",
        "--host",
        cfg.aws_host,
        "--port",
        str(cfg.aws_port),
        "--state-dir",
        str(cfg.state_dir / "aws"),
    ]
    if wait:
        argv += ["--sync-wait", wait]
    proc.start(argv, env=dict(os.environ), cwd=cfg.root)
    wait_until(lambda: http_ok(health), 60, f"the local AWS endpoint on {cfg.aws_endpoint}", proc)
    print(f"[local-aws] ready: {cfg.aws_endpoint} (state in {cfg.state_dir / 'aws'})", flush=True)
    return True


def stop_local_aws(cfg: StackConfig) -> None:
    if aws_process(cfg).stop(timeout=30):
        print("[local-aws] stopped", flush=True)


SERVICES = ("postgres", "kafka", "local-aws", "redis")


def start_services(cfg: StackConfig) -> list[str]:
    """Start what is not running yet; returns the names of the services started here.

    PostgreSQL is started only when Airflow's metadata lives on it (the default); Redis only for the
    CeleryExecutor."""
    started: list[str] = []
    try:
        if cfg.uses_local_postgres and postgres.start(cfg):
            started.append("postgres")
        if start_kafka(cfg):
            started.append("kafka")
        if start_local_aws(cfg):
            started.append("local-aws")
        if cfg.celery and redis.start(cfg):
            started.append("redis")
    except BaseException:
        stop_services(cfg, only=started)  # a half-started set would outlive the failed command
        raise
    database = f"PostgreSQL {cfg.postgres_host}:{cfg.postgres_port}" if cfg.uses_local_postgres else "(not used)"
    print(
        "services ready:\n"
        f"  Airflow metadata DB      {database}\n"
        f"  Kafka bootstrap.servers  {cfg.kafka_bootstrap}\n"
        f"  AWS endpoint (S3, Glue, Athena, STS)  {cfg.aws_endpoint}"
        + (f"\n  Redis (Celery broker)    {cfg.redis_host}:{cfg.redis_port}" if cfg.celery else ""),
        flush=True,
    )
    return started


def stop_services(cfg: StackConfig, only: Collection[str] = SERVICES) -> None:
    """Stop the services (those named in `only`); PostgreSQL last, after everything that writes to it."""
    if "redis" in only:
        redis.stop(cfg)
    if "local-aws" in only:
        stop_local_aws(cfg)
    if "kafka" in only:
        stop_kafka(cfg)
    if "postgres" in only:
        postgres.stop(cfg)


def kafka_status(cfg: StackConfig) -> str:
    result = subprocess.run(
        [str(cfg.root / "scripts" / "kafka.sh"), "status"], env=_kafka_env(cfg), capture_output=True, text=True
    )
    return (result.stdout + result.stderr).strip().removeprefix("[kafka] ")
