"""Kafka and the local AWS endpoint: the two services the pipeline and the integration tests need."""

from __future__ import annotations

import os
import subprocess
import sys

from devstack.config import StackConfig
from devstack.processes import ManagedProcess, StackError, http_ok, port_open, wait_until


def _kafka_env(cfg: StackConfig) -> dict[str, str]:
    return {
        **os.environ,
        "STATE_DIR": str(cfg.state_dir),
        "KAFKA_HOST": cfg.kafka_host,
        "KAFKA_PORT": str(cfg.kafka_port),
        "PYTHON": sys.executable,
    }


def start_kafka(cfg: StackConfig) -> None:
    result = subprocess.run([str(cfg.root / "scripts" / "kafka.sh"), "start"], env=_kafka_env(cfg))
    if result.returncode != 0:
        raise StackError("Kafka did not start (see the messages above and `scripts/kafka.sh logs`)")


def stop_kafka(cfg: StackConfig) -> None:
    subprocess.run([str(cfg.root / "scripts" / "kafka.sh"), "stop"], env=_kafka_env(cfg), check=False)


def aws_process(cfg: StackConfig) -> ManagedProcess:
    return ManagedProcess("local-aws", cfg.run_dir, cfg.log_dir)


def start_local_aws(cfg: StackConfig, sync_wait: float | None = None) -> None:
    proc = aws_process(cfg)
    health = f"{cfg.aws_endpoint}/_local_aws/health"
    if proc.pid() is None and port_open(cfg.aws_host, cfg.aws_port):
        raise StackError(
            f"port {cfg.aws_host}:{cfg.aws_port} is taken by another process; stop it or set LOCAL_AWS_PORT"
        )
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


def stop_local_aws(cfg: StackConfig) -> None:
    if aws_process(cfg).stop(timeout=30):
        print("[local-aws] stopped", flush=True)


def start_services(cfg: StackConfig) -> None:
    start_kafka(cfg)
    start_local_aws(cfg)
    print(
        "services ready:\n"
        f"  Kafka bootstrap.servers  {cfg.kafka_bootstrap}\n"
        f"  AWS endpoint (S3, Glue, Athena, STS)  {cfg.aws_endpoint}",
        flush=True,
    )


def stop_services(cfg: StackConfig) -> None:
    stop_local_aws(cfg)
    stop_kafka(cfg)


def kafka_status(cfg: StackConfig) -> str:
    result = subprocess.run(
        [str(cfg.root / "scripts" / "kafka.sh"), "status"], env=_kafka_env(cfg), capture_output=True, text=True
    )
    return (result.stdout + result.stderr).strip().removeprefix("[kafka] ")
