"""The "Market pipeline" page as a FastAPI app: one HTML page plus JSON endpoints its script polls.

Why one app factory: the Airflow plugin mounts ``create_app(settings, clients=..., assets_dir=...,
auth=...)`` under /market-pipeline with clients from Airflow's connections and the page's files from
the plugin folder; tests build their own with their own settings and clients, without Airflow's auth. Every panel fails on its own: an unreachable broker or AWS endpoint answers 503 with a
JSON ``error`` (never a 500 or a blank page); a bad query parameter answers 422 with a message.

Endpoints (relative to the mount point):
    GET /                 the page (server-rendered shell; static/market.js fills it)
    GET /api/lag          per-partition lag of settings.consumer_group on settings.topic; messages
                          appended in the last 60 s (broker offsets by timestamp)
    GET /api/producer     the simulator's newest runs: sent, acknowledged, undelivered (?limit=1..100)
    GET /api/windows      latest ingest windows from _manifests/<table>/  (?limit=1..100)
    GET /api/reports      latest validation reports from _reports/<table>/ (?limit=1..100)
    GET /api/gaps         spans no ingest window covers, their unlisted objects, open attempts (?days=1..31)
    GET /api/freshness    newest queryable tick (Athena, cached 30 s) vs now
    GET /api/symbols      symbols with one-minute bars and their newest minute (cached 60 s)
    GET /api/bars         ?symbols=AAPL,MSFT&minutes=1..1440[&end=ISO|latest]: one-minute OHLCV
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from market_pipeline import layout
from market_pipeline.settings import PipelineSettings
from market_ui import queries
from market_ui.clients import Clients
from market_ui.gaps import gap_summary
from market_ui.lag import fetch_offsets
from market_ui.lakeview import latest_reports, latest_windows
from market_ui.params import ParamError, parse_end, parse_int, parse_limit, parse_minutes, parse_symbols
from market_ui.producer import producer_panel

log = logging.getLogger(__name__)

FRESHNESS_TTL = 30.0
SYMBOLS_TTL = 60.0
BARS_TTL = 15.0
# The page is embedded by the Airflow UI (same origin) and loads only its own files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)


def safe_error(exc: BaseException) -> str:
    """A one-line, bounded message for the page: the failure's type and text, never config or traces."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 400:
        text = text[:400] + "..."
    name = type(exc).__name__
    return text if name in ("RuntimeError", "QueryError") else f"{name}: {text}"


def create_app(
    settings: PipelineSettings,
    *,
    clients: Clients,
    assets_dir: Path,
    auth: Callable[..., Any] | None = None,
    login_url: Callable[[str], str] | None = None,
    kafka_timeout: float = 5.0,
    athena_timeout: float = 20.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """Build the page's app.

    `assets_dir` holds the page's ``templates/`` and ``static/`` (they ship with the plugin, which passes
    its own folder); `auth` is a FastAPI dependency (Airflow's login in the plugin).
    """
    assets = Path(assets_dir)
    templates = Environment(
        loader=FileSystemLoader(str(assets / "templates")),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a name the template expects and the app does not pass is an error
    )
    freshness_cache = queries.TTLCache(FRESHNESS_TTL)
    symbols_cache = queries.TTLCache(SYMBOLS_TTL)
    bars_cache = queries.TTLCache(BARS_TTL)
    runner = queries.AthenaRunner(
        client=clients.athena,
        workgroup=settings.athena_workgroup,
        output_location=layout.athena_output(settings.bucket),
        database=settings.glue_database,
        timeout=athena_timeout,
    )

    dependencies = [Depends(auth)] if auth is not None else []
    app = FastAPI(
        title="Market pipeline",
        description=__doc__,
        dependencies=dependencies,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=str(assets / "static")), name="static")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # A browser opening the page without a session goes to the login, then back here.
        if (
            exc.status_code in (401, 403)
            and login_url is not None
            and request.url.path.rstrip("/") == _page_path(request)
        ):
            return RedirectResponse(login_url(str(request.url)), status_code=302)
        return JSONResponse({"error": str(exc.detail), "detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("market pipeline page: %s failed", request.url.path)
        return JSONResponse({"error": f"internal error: {safe_error(exc)}"}, status_code=503)

    def answer(panel: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> JSONResponse:
        try:
            body = compute()
        except ParamError as exc:
            return JSONResponse({**panel, "error": str(exc), "detail": str(exc)}, status_code=422)
        except Exception as exc:
            log.warning("market pipeline page: %s unavailable: %s", panel.get("panel"), exc)
            return JSONResponse({**panel, "error": safe_error(exc)}, status_code=503)
        return JSONResponse({**panel, **body, "error": None})

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        html = templates.get_template("market.html").render(
            root=root,
            settings=settings,
            manifests_uri=layout.s3_uri(settings.bucket, layout.manifest_prefix(settings.table)),
            reports_uri=layout.s3_uri(settings.bucket, layout.report_prefix(settings.table)),
            refresh={"lag": 5, "lake": 15, "freshness": 30, "bars": 60, "producer": 10},
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})

    @app.get("/api/lag")
    def lag() -> JSONResponse:
        panel = {"panel": "lag", "topic": settings.topic, "group": settings.consumer_group}

        def compute() -> dict[str, Any]:
            try:
                offsets = fetch_offsets(
                    clients.kafka_admin(),
                    settings.topic,
                    settings.consumer_group,
                    kafka_timeout,
                    committed_fn=getattr(clients, "kafka_committed", None),
                    now=clock(),
                )
            except Exception:
                reset = getattr(clients, "kafka_failed", None)
                if reset is not None:
                    reset()
                raise
            rows = offsets.partitions
            return {
                "partitions": [r.to_dict() for r in rows],
                "total_lag": sum(r.lag for r in rows),
                "total_messages": sum(r.high for r in rows),
                "appended_in_window": offsets.appended_in_window,
                "throughput_msgs_per_s": round(offsets.throughput, 2),
                "throughput_window_s": offsets.window_s,
                "sampled_at": queries.iso_z(clock()),
            }

        return answer(panel, compute)

    @app.get("/api/producer")
    def producer(limit: str | None = None) -> JSONResponse:
        panel = {"panel": "producer", "topic": settings.topic}

        def compute() -> dict[str, Any]:
            n = parse_limit(limit)
            runs = getattr(clients, "simulator_runs", None)
            if runs is None:
                raise RuntimeError("no access to the simulator's runs (Airflow's metadata) from this page")
            return producer_panel(runs(n))

        return answer(panel, compute)

    @app.get("/api/windows")
    def windows(limit: str | None = None) -> JSONResponse:
        panel = {"panel": "windows", "bucket": settings.bucket, "table": settings.table}

        def compute() -> dict[str, Any]:
            n = parse_limit(limit)
            return {"windows": latest_windows(clients.s3(), settings.bucket, settings.table, n)}

        return answer(panel, compute)

    @app.get("/api/reports")
    def reports(limit: str | None = None) -> JSONResponse:
        panel = {"panel": "reports", "bucket": settings.bucket, "table": settings.table}

        def compute() -> dict[str, Any]:
            n = parse_limit(limit)
            rows = latest_reports(clients.s3(), settings.bucket, settings.table, n)
            return {"reports": rows, "failed": sum(1 for r in rows if r["status"] != "passed")}

        return answer(panel, compute)

    @app.get("/api/gaps")
    def gaps(days: str | None = None) -> JSONResponse:
        panel = {"panel": "gaps", "bucket": settings.bucket, "table": settings.table}

        def compute() -> dict[str, Any]:
            span = parse_int(days, "days", 7, 1, 31, " days")
            since = clock() - timedelta(days=span)
            interval = timedelta(minutes=settings.interval_minutes)
            return {"days": span, **gap_summary(clients.s3(), settings.bucket, settings.table, since, interval)}

        return answer(panel, compute)

    @app.get("/api/freshness")
    def freshness() -> JSONResponse:
        panel = {"panel": "freshness", "database": settings.glue_database, "table": settings.table}

        def compute() -> dict[str, Any]:
            result, age = freshness_cache.get("raw", lambda: queries.freshness(runner, settings.table, clock()))
            now = clock()
            body = dict(result)
            newest = queries.parse_timestamp(body["newest_event_time"]) if body["newest_event_time"] else None
            if newest is not None:  # the age moves on while the cached max() stands still
                body["age_seconds"] = round((now - newest).total_seconds(), 1)
            return {**body, "checked_at": queries.iso_z(now), "cache_age_seconds": round(age, 1)}

        return answer(panel, compute)

    def known_symbols() -> dict[str, datetime]:
        value, _ = symbols_cache.get("bars", lambda: queries.bar_symbols(runner, settings.bars_table, clock()))
        return value

    @app.get("/api/symbols")
    def symbols() -> JSONResponse:
        panel = {"panel": "symbols", "database": settings.glue_database, "table": settings.bars_table}

        def compute() -> dict[str, Any]:
            found = known_symbols()
            return {"symbols": sorted(found), "newest": {s: queries.iso_z(t) for s, t in sorted(found.items())}}

        return answer(panel, compute)

    @app.get("/api/bars")
    def bars(symbols: str | None = None, minutes: str | None = None, end: str | None = None) -> JSONResponse:
        panel = {"panel": "bars", "database": settings.glue_database, "table": settings.bars_table}
        try:
            wanted = parse_symbols(symbols)
            span = parse_minutes(minutes)
            until = parse_end(end)
        except ParamError as exc:
            return JSONResponse({**panel, "error": str(exc), "detail": str(exc)}, status_code=422)

        def compute() -> dict[str, Any]:
            stop = until
            if stop is None:  # "latest": end at the newest bar of the chosen symbols, not the wall clock
                newest = [t for s, t in known_symbols().items() if s in wanted]
                stop = max(newest) if newest else clock().replace(second=0, microsecond=0)
            start = stop - timedelta(minutes=span)
            sql = queries.bars_sql(settings.glue_database, settings.bars_table, wanted, start, stop)
            rows, _ = bars_cache.get(sql, lambda: runner.query(sql))
            series = queries.bars_series(rows, wanted)
            return {
                "symbols": wanted,
                "minutes": span,
                "start": queries.iso_z(start),
                "end": queries.iso_z(stop),
                "rows": sum(len(s["t"]) for s in series.values()),
                "series": series,
            }

        return answer({**panel, "symbols": wanted, "minutes": span}, compute)

    return app


def _page_path(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")
