"""`python -m devstack services|up|stop|status|restart NAME|airflow ...`: the local stack behind make."""

from __future__ import annotations

import argparse
import os
import sys

from devstack import airflow, services, stack
from devstack.config import StackConfig
from devstack.processes import StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "command",
        choices=["services", "up", "stop", "status", "restart", "airflow"],
        help="services: start PostgreSQL, Kafka and the local AWS endpoint in the background; "
        "up: services + Airflow in the foreground (Ctrl-C stops what it started); stop: stop the stack; "
        "status: show what runs; restart kafka|local-aws|postgres: one service, data kept; "
        "airflow ARGS...: the Airflow CLI with the stack's configuration",
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help="restart: the service; airflow: the CLI's arguments")
    args = parser.parse_args(argv)
    try:
        cfg = StackConfig()
        if args.command == "services":
            services.start_services(cfg)
        elif args.command == "up":
            return stack.up(cfg)
        elif args.command == "stop":
            stack.stop(cfg)
        elif args.command == "status":
            for name, state in stack.status(cfg):
                print(f"{name:24s} {state}")
        elif args.command == "restart":
            if len(args.args) != 1:
                parser.error(f"restart takes one service: {', '.join(stack.RESTARTABLE)}")
            stack.restart(cfg, args.args[0])
        elif args.command == "airflow":
            # AIRFLOW_HOME alone is not the stack's configuration (DB, DAG folder, connections, secrets).
            argv_ = [sys.executable, "-m", "airflow", *args.args]
            os.execve(sys.executable, argv_, airflow.full_env(cfg))
    except StackError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
