"""The local stack's executor choice: what EXECUTOR=celery changes in every Airflow component's environment."""

from __future__ import annotations

import pytest

from devstack import airflow
from devstack.config import StackConfig, airflow_env
from devstack.processes import StackError
from devstack.worker_identity import HOSTNAME_ENV, hostname


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    monkeypatch.delenv("EXECUTOR", raising=False)
    return tmp_path


def test_local_is_the_default_and_has_no_celery_settings(state):
    cfg = StackConfig()
    env = airflow_env(cfg)
    assert cfg.executor == "local" and env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not [k for k in env if k.startswith("AIRFLOW__CELERY")]
    assert airflow.components(cfg) == airflow.COMPONENTS


@pytest.mark.parametrize("value", ["celery", "CeleryExecutor", "CELERY"])
def test_executor_celery_sets_broker_backend_and_workers(state, monkeypatch, value):
    monkeypatch.setenv("EXECUTOR", value)
    monkeypatch.setenv("REDIS_PORT", "16399")
    cfg = StackConfig()
    env = airflow_env(cfg)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = env["AIRFLOW__CELERY__BROKER_URL"]
    assert broker.startswith("redis://:") and broker.endswith("@127.0.0.1:16399/0")
    password = (state / "secrets" / "redis_password").read_text().strip()
    assert len(password) >= 32 and password in broker.replace("%", ""), "a generated password, not a constant"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert airflow.worker_names(cfg) == ("celery-worker-1", "celery-worker-2")
    assert airflow.components(cfg) == (*airflow.COMPONENTS, "celery-worker-1", "celery-worker-2")
    assert len({airflow.worker_hostname(n) for n in airflow.worker_names(cfg)}) == 2


def test_unknown_executor_and_bad_worker_counts_are_refused(state, monkeypatch):
    monkeypatch.setenv("EXECUTOR", "kubernetes")
    with pytest.raises(StackError, match="EXECUTOR must be one of local, celery"):
        StackConfig()
    monkeypatch.setenv("EXECUTOR", "celery")
    monkeypatch.setenv("CELERY_WORKERS", "0")
    with pytest.raises(StackError, match="CELERY_WORKERS"):
        StackConfig()


def test_a_worker_reports_its_own_host_name(monkeypatch):
    monkeypatch.setenv(HOSTNAME_ENV, "box-celery-worker-2")
    assert hostname() == "box-celery-worker-2"
    monkeypatch.delenv(HOSTNAME_ENV)
    import socket

    assert hostname() == socket.getfqdn()
