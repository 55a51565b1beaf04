"""The endpoint process: moto's WSGI app, extended in-process, behind one HTTP port.

Why moto in-process: boto3, PyAthena and the Airflow provider talk to it unchanged through
``endpoint_url``; moto already speaks every wire protocol (REST-XML S3, JSON Glue/Athena, query
STS), and its backends are plain Python objects our extensions patch and read directly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from local_aws import athena, glue, hooks, persistence, s3
from local_aws.options import EndpointOptions

log = logging.getLogger("local_aws")

HEALTH_PATH = "/_local_aws/health"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local_aws",
        description="Local AWS endpoint (S3, Glue + crawler, Athena, STS) for boto3/PyAthena/Airflow.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port to listen on (default 4566; 0 = any)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="persist S3 objects, the Glue catalog and other state here; omitted = memory only",
    )
    parser.add_argument(
        "--sync-wait",
        type=float,
        default=0.0,
        help="seconds StartCrawler waits for the crawl to finish before replying (default 0)",
    )
    parser.add_argument("--account-id", default="123456789012", help="the account id moto answers with")
    parser.add_argument("--region", default="us-east-1", help="default region")
    parser.add_argument(
        "--no-athena",
        action="store_true",
        help="run without the local_aws.athena extension (moto's stub Athena answers instead)",
    )
    parser.add_argument(
        "--log-level", default=os.environ.get("LOCAL_AWS_LOG_LEVEL", "INFO"), help="DEBUG logs every request"
    )
    return parser.parse_args(argv)


class LocalAwsApp:
    """WSGI wrapper: our own health route, then moto; runs after-write hooks for persistence."""

    def __init__(self, moto_app: Any) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            body = json.dumps({"status": "ok"}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        result = self.moto_app(environ, start_response)
        if environ.get("REQUEST_METHOD", "GET") not in READ_METHODS:
            hooks.run_after_write(environ)
        return result


def build_app() -> LocalAwsApp:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return LocalAwsApp(DomainDispatcherApplication(create_backend_app))


def install_services(options: EndpointOptions, with_athena: bool = True) -> None:
    """Install each service's extensions the same way, then restore the saved state."""
    persistence.configure(options.state_dir)
    services = (s3, glue, athena) if with_athena else (s3, glue)
    for service in services:
        service.install(options)
    persistence.load_all()
    persistence.start_flusher()


def shutdown_services() -> None:
    """Stop the services (last installed first: crawls end before S3 reconciles), then save everything."""
    hooks.run_shutdown()
    persistence.stop_flusher()


def _make_request_handler() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        """One log line per request, at DEBUG (INFO would drown the useful lines)."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            log.debug('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

    return QuietHandler


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    options = EndpointOptions(
        host=args.host,
        port=args.port,
        state_dir=args.state_dir.resolve() if args.state_dir else None,
        sync_wait=max(0.0, args.sync_wait),
        account_id=args.account_id,
        region=args.region,
    )
    os.environ.setdefault("MOTO_ACCOUNT_ID", options.account_id)
    from werkzeug.serving import make_server

    install_services(options, with_athena=not args.no_athena)
    server = make_server(
        options.host, options.port, build_app(), threaded=True, request_handler=_make_request_handler()
    )
    port = server.server_address[1]
    os.environ.setdefault("MOTO_PORT", str(port))

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    thread = threading.Thread(target=server.serve_forever, name="local-aws-http", daemon=True)
    thread.start()
    print(f"local_aws listening on http://{options.host}:{port}", flush=True)
    if options.state_dir:
        log.info("state dir: %s", options.state_dir)
    while not stop.wait(timeout=1.0):
        pass
    server.shutdown()
    thread.join(timeout=10)
    shutdown_services()
    log.info("state saved; bye" if options.state_dir else "stopped (nothing persisted: no --state-dir)")
    sys.stdout.flush()
    return 0
