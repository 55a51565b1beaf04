"""Redis, the Celery broker of the local stack when it runs CeleryExecutor (`make up EXECUTOR=celery`).

A real server, as MWAA, Astronomer and the Helm chart run beside their Celery workers: it listens on
127.0.0.1:$REDIS_PORT only, with a password generated per state directory (a local user who could
queue a message could run code in a worker), in the foreground under our process management. It keeps
no data across restarts (`save ""`): Airflow re-queues what a lost broker message held.

Binary, first found wins: `$REDIS_SERVER`; `redis-server` on PATH; `/usr/bin/redis-server`. With none,
`scripts/ensure_redis.sh` installs Debian's `redis-server` when run as root, or says what to install.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from devstack.config import StackConfig, local_secret
from devstack.processes import ManagedProcess, StackError, require_free_port, wait_until


def find_server() -> str | None:
    explicit = os.environ.get("REDIS_SERVER", "").strip()
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )


def ensure_server(cfg: StackConfig) -> str:
    """The redis-server binary, installed from Debian's packages (as root) on first use if none is found."""
    binary = find_server()
    if binary is None:
        subprocess.run([str(cfg.root / "scripts" / "ensure_redis.sh")], env=dict(os.environ), check=False)
        binary = find_server()
    if binary is None:
        raise StackError(
            "no redis-server found (REDIS_SERVER, PATH, /usr/bin): install Redis 7 (e.g. "
            "`sudo apt-get install redis-server`) or run with the LocalExecutor (EXECUTOR=local)"
        )
    return binary


def process(cfg: StackConfig) -> ManagedProcess:
    return ManagedProcess("redis", cfg.run_dir, cfg.log_dir)


def password(cfg: StackConfig) -> str:
    return local_secret(cfg, "redis_password")


def _write_config(cfg: StackConfig) -> Path:
    """redis.conf with the password (0600: it is not on any command line)."""
    folder = cfg.state_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "redis.conf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(
            f"bind {cfg.redis_host}\n"
            f"port {cfg.redis_port}\n"
            "protected-mode yes\n"
            f"requirepass {password(cfg)}\n"
            f"dir {folder}\n"
            'save ""\n'
            "appendonly no\n"
            "daemonize no\n"
            'logfile ""\n'
        )
    return path


def ping(cfg: StackConfig, timeout: float = 1.0) -> bool:
    """Whether our server answers an authenticated PING (RESP, no client library needed)."""
    secret = password(cfg).encode()
    command = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(secret), secret)
    try:
        with socket.create_connection((cfg.redis_host, cfg.redis_port), timeout=timeout) as sock:
            sock.sendall(command)
            reply = b""
            while b"PONG" not in reply and len(reply) < 256:
                chunk = sock.recv(256)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return False
    return b"+OK" in reply and b"+PONG" in reply


def start(cfg: StackConfig) -> bool:
    """Start the server; returns False when it was already running."""
    proc = process(cfg)
    if proc.pid() is not None:
        print(f"[redis] already running (pid {proc.pid()}) on {cfg.redis_host}:{cfg.redis_port}", flush=True)
        return False
    require_free_port(cfg.redis_host, cfg.redis_port, "REDIS_PORT")
    binary = ensure_server(cfg)
    proc.start([binary, str(_write_config(cfg))], env=dict(os.environ), cwd=cfg.state_dir)
    wait_until(lambda: ping(cfg), 30, f"Redis on {cfg.redis_host}:{cfg.redis_port}", proc)
    print(f"[redis] ready: {cfg.redis_host}:{cfg.redis_port} ({binary})", flush=True)
    return True


def stop(cfg: StackConfig) -> bool:
    if process(cfg).stop(timeout=30):
        print("[redis] stopped", flush=True)
        return True
    return False


def status(cfg: StackConfig) -> str:
    pid = process(cfg).pid()
    return f"running (pid {pid}) on {cfg.redis_host}:{cfg.redis_port}" if pid else "stopped"
