"""`python -m devstack services|up|stop|status`: the local stack behind the Makefile targets."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from devstack import airflow, services
from devstack.config import StackConfig
from devstack.processes import StackError


def _up(cfg: StackConfig) -> int:
    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started_services = False
    try:
        services.start_services(cfg)
        started_services = True
        airflow.prepare(cfg)
        airflow.start(cfg)
        run_id = airflow.bootstrap_pipeline(cfg)
        print(
            "\n"
            "  Airflow UI   " + cfg.airflow_url + "\n"
            f"  login        {cfg.admin_user} / {cfg.admin_password}   (local only; set AIRFLOW_ADMIN_PASSWORD)\n"
            f"  setup run    stock_market_setup / {run_id}\n"
            f"  Kafka        {cfg.kafka_bootstrap}\n"
            f"  AWS endpoint {cfg.aws_endpoint}\n"
            f"  logs         {cfg.log_dir}\n"
            "\n  Ctrl-C stops everything started here; data stays in " + str(cfg.state_dir) + "\n",
            flush=True,
        )
        while not stop_requested.wait(1.0):
            dead = [name for name in airflow.COMPONENTS if airflow.component(cfg, name).pid() is None]
            if dead:
                print(f"[up] Airflow {', '.join(dead)} exited; see {cfg.log_dir}. Stopping.", file=sys.stderr)
                return 1
        return 0
    except StackError as exc:
        print(f"[up] ERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\n[up] stopping the stack (data is kept)", flush=True)
        airflow.stop(cfg)
        if started_services:
            services.stop_services(cfg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "command",
        choices=["services", "up", "stop", "status"],
        help="services: start Kafka and the local AWS endpoint in the background; "
        "up: services + Airflow in the foreground (Ctrl-C stops all); stop: stop what was started; "
        "status: show what runs",
    )
    args = parser.parse_args(argv)
    try:
        cfg = StackConfig()
        if args.command == "services":
            services.start_services(cfg)
        elif args.command == "up":
            return _up(cfg)
        elif args.command == "stop":
            airflow.stop(cfg)
            services.stop_services(cfg)
        elif args.command == "status":
            rows = [(name, airflow.component(cfg, name).pid()) for name in airflow.COMPONENTS]
            rows.append(("local-aws", services.aws_process(cfg).pid()))
            for name, pid in rows:
                print(f"{name:24s} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
            subprocess_status = services.kafka_status(cfg)
            print(f"{'kafka':24s} {subprocess_status}")
    except StackError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
