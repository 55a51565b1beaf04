"""Ports, paths and the Airflow connections of the local stack, all overridable from the environment."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from devstack.processes import StackError

PROJECT_ROOT_ENV = "PIPELINE_PROJECT_ROOT"


def project_root() -> Path:
    """The checkout the stack runs from (its dags/, plugins/ and scripts/).

    devstack is an installed development package, so its own location says nothing about the
    checkout: ``PIPELINE_PROJECT_ROOT`` names it (the Makefile and scripts/*.sh set it), else the
    working directory is used when it holds ``dags/``.
    """
    explicit = os.environ.get(PROJECT_ROOT_ENV, "").strip()
    root = Path(explicit or os.getcwd()).resolve()
    if not (root / "dags").is_dir():
        raise StackError(
            f"{root} is not the project checkout (it has no dags/): run from the checkout "
            f"(make ...) or set {PROJECT_ROOT_ENV} to it"
        )
    return root


# The login role that owns Airflow's metadata databases on the stack's PostgreSQL server.
AIRFLOW_DB_ROLE = "airflow"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}


def _executor() -> str:
    """`EXECUTOR=local|celery` (Airflow's class names are accepted too); local by default."""
    raw = _env("EXECUTOR", "local")
    for short, name in EXECUTORS.items():
        if raw.lower() in (short, name.lower()):
            return short
    raise StackError(f"EXECUTOR must be one of {', '.join(EXECUTORS)}; got {raw!r}")


@dataclass(frozen=True)
class StackConfig:
    """Where each service listens and keeps its state. Defaults match the README's table."""

    root: Path = field(default_factory=project_root)
    state_dir: Path = field(default_factory=lambda: Path(_env("STATE_DIR", str(project_root() / ".state"))).resolve())
    kafka_host: str = field(default_factory=lambda: _env("KAFKA_HOST", "127.0.0.1"))
    kafka_port: int = field(default_factory=lambda: int(_env("KAFKA_PORT", "9092")))
    aws_host: str = field(default_factory=lambda: _env("LOCAL_AWS_HOST", "127.0.0.1"))
    aws_port: int = field(default_factory=lambda: int(_env("LOCAL_AWS_PORT", "4566")))
    aws_region: str = field(default_factory=lambda: _env("AWS_DEFAULT_REGION", "us-east-1"))
    airflow_host: str = field(default_factory=lambda: _env("AIRFLOW_API_HOST", "127.0.0.1"))
    airflow_port: int = field(default_factory=lambda: int(_env("AIRFLOW_API_PORT", "8080")))
    admin_user: str = field(default_factory=lambda: _env("AIRFLOW_ADMIN_USER", "admin"))
    admin_password: str = field(default_factory=lambda: _env("AIRFLOW_ADMIN_PASSWORD", "admin"))
    postgres_host: str = field(default_factory=lambda: _env("POSTGRES_HOST", "127.0.0.1"))
    postgres_port: int = field(default_factory=lambda: int(_env("POSTGRES_PORT", "5432")))
    # The database on that server holding this stack's Airflow metadata.
    metadata_db: str = field(default_factory=lambda: _env("POSTGRES_DB", "airflow"))
    # Tests run a second, isolated Airflow beside their dag.test() metadata DB.
    airflow_home_dir: Path | None = None
    # CeleryExecutor: Redis as the broker and this many workers with these task slots each (the default
    # 2 x 3 gives the LocalExecutor's 6 slots on the 2-core reference machine).
    executor: str = field(default_factory=_executor)
    redis_host: str = field(default_factory=lambda: _env("REDIS_HOST", "127.0.0.1"))
    redis_port: int = field(default_factory=lambda: int(_env("REDIS_PORT", "6379")))
    celery_workers: int = field(default_factory=lambda: int(_env("CELERY_WORKERS", "2")))
    celery_concurrency: int = field(default_factory=lambda: int(_env("CELERY_WORKER_CONCURRENCY", "3")))

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise StackError(f"executor must be one of {', '.join(EXECUTORS)}; got {self.executor!r}")
        if self.celery_workers < 1 or self.celery_concurrency < 1:
            raise StackError("CELERY_WORKERS and CELERY_WORKER_CONCURRENCY must be at least 1")

    @property
    def celery(self) -> bool:
        return self.executor == "celery"

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.aws_host}:{self.aws_port}"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.airflow_host}:{self.airflow_port}"

    @property
    def airflow_home(self) -> Path:
        if self.airflow_home_dir is not None:
            return self.airflow_home_dir
        return Path(_env("AIRFLOW_HOME", str(self.state_dir / "airflow")))

    @property
    def sql_alchemy_conn(self) -> str:
        """The stack's PostgreSQL database, unless AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names another.

        An explicit home (a test stack) never borrows another DB from the environment."""
        default = postgres_url(self, self.metadata_db)
        if self.airflow_home_dir is not None:
            return default
        return _env("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", default)

    @property
    def uses_local_postgres(self) -> bool:
        """Whether Airflow's metadata lives on the stack's own PostgreSQL server (the default)."""
        return self.sql_alchemy_conn == postgres_url(self, self.metadata_db)

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


def postgres_url(cfg: StackConfig, database: str) -> str:
    """SQLAlchemy URL of `database` on the stack's server, as the Airflow role (psycopg 3 driver)."""
    password = quote(local_secret(cfg, "postgres_airflow"), safe="")
    return f"postgresql+psycopg://{AIRFLOW_DB_ROLE}:{password}@{cfg.postgres_host}:{cfg.postgres_port}/{database}"


def redis_url(cfg: StackConfig) -> str:
    """Celery's broker URL: the stack's Redis (database 0) with its generated password."""
    password = quote(local_secret(cfg, "redis_password"), safe="")
    return f"redis://:{password}@{cfg.redis_host}:{cfg.redis_port}/0"


def stack_config_for(kafka_bootstrap: str, aws_endpoint: str) -> StackConfig:
    """A config pointing at the given broker and endpoint (tests pass the ports they started)."""
    kafka_host, kafka_port = kafka_bootstrap.rsplit(":", 1)
    aws_host, aws_port = aws_endpoint.split("://", 1)[1].rsplit(":", 1)
    return StackConfig(kafka_host=kafka_host, kafka_port=int(kafka_port), aws_host=aws_host, aws_port=int(aws_port))


def connections_env(cfg: StackConfig) -> dict[str, str]:
    """AIRFLOW_CONN_* for the local stack. Production sets the same ids to real AWS and brokers."""
    bucket = _env("PIPELINE_BUCKET", "stock-market-lake")
    workgroup = _env("PIPELINE_ATHENA_WORKGROUP", "stock_market")
    database = _env("PIPELINE_GLUE_DATABASE", "stock_market")
    # Local-only dummy credentials: the local endpoint accepts any key; real AWS uses roles or a
    # secrets backend, never values in code.
    aws = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"region_name": cfg.aws_region, "endpoint_url": cfg.aws_endpoint},
    }
    athena = {
        "conn_type": "athena",
        "login": "testing",
        "password": "testing",
        "schema": database,
        "extra": {
            "region_name": cfg.aws_region,
            "endpoint_url": cfg.aws_endpoint,
            "s3_staging_dir": f"s3://{bucket}/athena-results/",
            "work_group": workgroup,
        },
    }
    kafka = {
        "conn_type": "kafka",
        "extra": {
            "bootstrap.servers": cfg.kafka_bootstrap,
            "group.id": _env("PIPELINE_CONSUMER_GROUP", "stock_market_ingest"),
            "socket.timeout.ms": 10000,
        },
    }
    return {
        "AIRFLOW_CONN_KAFKA_DEFAULT": json.dumps(kafka),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws),
        "AIRFLOW_CONN_ATHENA_DEFAULT": json.dumps(athena),
    }


def local_secret(cfg: StackConfig, name: str) -> str:
    """A random secret generated once per state directory (never a constant in code)."""
    path = cfg.state_dir / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # atomic: when two processes race, the first secret wins for both
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _write_once(path: Path, value: str) -> str:
    """Write `value` to `path` unless it exists (atomic: when two processes race, the first one wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text(value + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def pipeline_start_date(cfg: StackConfig) -> str:
    """PIPELINE_START_DATE of this stack: the environment's, else the one recorded at its first start.

    Ingest and catalog run every interval from this instant (catchup), so it must never move: it is
    recorded once next to the stack's Airflow metadata, as the start of the interval the first start
    fell in, and reused by every later start. A fresh metadata database (a new AIRFLOW_HOME, `make
    clean-state`) records a new one.
    """
    explicit = _env("PIPELINE_START_DATE", "")
    if explicit:
        return explicit
    minutes = int(_env("PIPELINE_INTERVAL_MINUTES", "5"))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now.replace(minute=now.minute - now.minute % minutes)
    return _write_once(cfg.airflow_home / "pipeline_start_date", start.strftime("%Y-%m-%dT%H:%M:%SZ"))


def default_parallelism() -> int:
    """LocalExecutor task slots: three per core (6 on the 2-core reference machine).

    A task spends about a CPU-second starting (interpreter, providers, DAG parse), then mostly waits on
    Kafka, S3 or Athena. Three slots per core overlap those waits; more only queue CPU behind the
    scheduler and the api-server (which serves every task's execution API) on a small machine.
    The Athena pool still caps concurrent queries separately."""
    return max(4, 3 * (os.cpu_count() or 2))


def airflow_env(cfg: StackConfig) -> dict[str, str]:
    """The environment every Airflow component of the local stack runs with."""
    home = cfg.airflow_home
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(cfg.root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(cfg.root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": EXECUTORS[cfg.executor],
        "AIRFLOW__CORE__PARALLELISM": _env("AIRFLOW__CORE__PARALLELISM", str(default_parallelism())),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{cfg.admin_user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{cfg.airflow_url}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": cfg.sql_alchemy_conn,
        "AIRFLOW__API__HOST": cfg.airflow_host,
        "AIRFLOW__API__PORT": str(cfg.airflow_port),
        "AIRFLOW__API__BASE_URL": cfg.airflow_url,
        "AIRFLOW__API__SECRET_KEY": local_secret(cfg, "api_secret_key"),
        "AIRFLOW__API_AUTH__JWT_SECRET": local_secret(cfg, "jwt_secret"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": _env("AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "30"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AWS_DEFAULT_REGION": cfg.aws_region,
        "NO_PROXY": "*",
        "PIPELINE_START_DATE": pipeline_start_date(cfg),
    }
    if cfg.celery:
        env.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": redis_url(cfg),
                # Task states go to the metadata DB, as Airflow's own default does; stated, not inferred.
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{cfg.sql_alchemy_conn}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(cfg.celery_concurrency),
                # A task running longer is redelivered (and the first run killed): the simulator's run
                # is long, so the limit is stated (a day, Celery's default) rather than warned about.
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
            }
        )
    env.update(connections_env(cfg))
    return env
