"""Athena queries for the page: bounded polling, a small TTL cache, freshness and one-minute bars.

Why a cache: every open page polls, and an Athena query costs seconds and money; freshness and the
symbol list change at most every few minutes, so 30-60 s of staleness is free. Why bounded polling:
a page must answer even when Athena is slow, so a query that outlives its budget is stopped and
reported instead of holding a worker thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from market_pipeline import layout
from market_pipeline.catalog.query_results import page_rows
from market_pipeline.catalog.sql_names import checked_identifier, timestamp_literal
from market_ui.params import SYMBOL_RE

TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
MAX_RESULT_ROWS = 20_000
# Recent partitions are tried first so the usual query prunes to a day or two of data.
RECENT_DAYS = 2


class QueryError(RuntimeError):
    """An Athena query failed or timed out; the message is safe to show on the page."""


def quote_identifier(name: str) -> str:
    """A database/table name as a quoted identifier; names come from settings, still never trusted."""
    return f'"{checked_identifier(name)}"'


def table_ref(database: str, table: str) -> str:
    return f"{quote_identifier(database)}.{quote_identifier(table)}"


def parse_timestamp(text: str | None) -> datetime | None:
    """An Athena timestamp cell ('2026-11-25 10:05:00.000', with or without a zone) as aware UTC."""
    return None if text is None or text == "" else layout.parse_instant(text)


def iso_z(moment: datetime | None) -> str | None:
    """A time for the page: the layout's instant format, to the second."""
    return None if moment is None else layout.format_instant(moment.replace(microsecond=0))


@dataclass
class AthenaRunner:
    """Runs one statement through a boto3 Athena client and returns rows as dicts of strings."""

    client: Callable[[], Any]
    workgroup: str
    output_location: str
    database: str
    timeout: float = 20.0
    poll_interval: float = 0.25

    def query(self, sql: str) -> list[dict[str, str | None]]:
        athena = self.client()
        started = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": self.database},
            WorkGroup=self.workgroup,
            ResultConfiguration={"OutputLocation": self.output_location},
        )
        query_id = started["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            status = execution["Status"]
            if status["State"] in TERMINAL_STATES:
                break
            if time.monotonic() > deadline:
                with contextlib.suppress(Exception):  # best effort: the timeout is what the page reports
                    athena.stop_query_execution(QueryExecutionId=query_id)
                raise QueryError(f"Athena query {query_id} did not finish within {self.timeout:.0f} s")
            time.sleep(self.poll_interval)
        if status["State"] != "SUCCEEDED":
            reason = status.get("StateChangeReason") or status["State"]
            raise QueryError(f"Athena query {status['State'].lower()}: {reason}")
        return self._rows(athena, query_id)

    def _rows(self, athena: Any, query_id: str) -> list[dict[str, str | None]]:
        rows: list[dict[str, str | None]] = []
        kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": 1000}
        while True:
            page = athena.get_query_results(**kwargs)
            rows += page_rows(page, first_page="NextToken" not in kwargs)
            if len(rows) > MAX_RESULT_ROWS:
                raise QueryError(f"query returned more than {MAX_RESULT_ROWS} rows; narrow the range")
            token = page.get("NextToken")
            if not token:
                return rows
            kwargs["NextToken"] = token


class TTLCache:
    """Values per key for `ttl` seconds; one computation per key at a time (single flight).

    Failures are cached for `error_ttl` seconds, so a page polling a dead endpoint does not start a
    new query (or a new connection timeout) on every request.
    """

    def __init__(self, ttl: float, error_ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.error_ttl = error_ttl
        self._clock = clock
        self._values: dict[Any, tuple[float, bool, Any]] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> tuple[Any, float]:
        """(value, age in seconds); re-raises a cached or fresh failure."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            now = self._clock()
            cached = self._values.get(key)
            if cached is not None:
                at, ok, value = cached
                if now - at < (self.ttl if ok else self.error_ttl):
                    if ok:
                        return value, now - at
                    raise value
            try:
                value = compute()
            except Exception as exc:
                self._values[key] = (self._clock(), False, exc)
                raise
            self._values[key] = (self._clock(), True, value)
            return value, 0.0

    def clear(self) -> None:
        with self._guard:
            self._values.clear()


def newest_value(runner: AthenaRunner, table: str, column: str, now: datetime, where: str = "") -> datetime | None:
    """max(column) of a dt-partitioned table: recent partitions first, the whole table only if empty."""
    ref = table_ref(runner.database, table)
    col = quote_identifier(column)
    extra = f" AND ({where})" if where else ""
    recent = layout.dt_hour(now - timedelta(days=RECENT_DAYS))[0]
    rows = runner.query(f"SELECT max({col}) AS newest FROM {ref} WHERE dt >= '{recent}'{extra}")
    newest = parse_timestamp(rows[0].get("newest")) if rows else None
    if newest is None:
        rows = runner.query(f"SELECT max({col}) AS newest FROM {ref}" + (f" WHERE {where}" if where else ""))
        newest = parse_timestamp(rows[0].get("newest")) if rows else None
    return newest


# Data older than this is stale: ingest runs every 5 minutes and the crawler after it.
FRESH_SECONDS = 15 * 60


def freshness(runner: AthenaRunner, table: str, now: datetime) -> dict[str, Any]:
    """Newest queryable tick vs the wall clock, with a status a person can read at a glance."""
    newest = newest_value(runner, table, "event_time", now)
    if newest is None:
        return {"newest_event_time": None, "age_seconds": None, "status": "empty"}
    age = (now - newest).total_seconds()
    if age < -60:
        status = "ahead"  # simulated sessions may run ahead of the wall clock
    elif age <= FRESH_SECONDS:
        status = "fresh"
    else:
        status = "stale"
    return {"newest_event_time": iso_z(newest), "age_seconds": round(age, 1), "status": status}


def symbols_sql(database: str, bars_table: str, since_dt: str | None) -> str:
    where = f" WHERE dt >= '{since_dt}'" if since_dt else ""
    return (
        f"SELECT symbol, max(minute) AS newest FROM {table_ref(database, bars_table)}{where} "
        "GROUP BY symbol ORDER BY symbol LIMIT 1000"
    )


def bar_symbols(runner: AthenaRunner, bars_table: str, now: datetime) -> dict[str, datetime]:
    """Symbols with bars and each one's newest minute (recent partitions first)."""
    recent = layout.dt_hour(now - timedelta(days=RECENT_DAYS))[0]
    rows = runner.query(symbols_sql(runner.database, bars_table, recent))
    if not rows:
        rows = runner.query(symbols_sql(runner.database, bars_table, None))
    out: dict[str, datetime] = {}
    for row in rows:
        symbol, newest = row.get("symbol"), parse_timestamp(row.get("newest"))
        if symbol and newest is not None:
            out[symbol] = newest
    return out


def bars_sql(database: str, bars_table: str, symbols: Sequence[str], start: datetime, end: datetime) -> str:
    """Bars in (start, end] for validated symbols, pruned to the dt partitions around the range."""
    for symbol in symbols:
        if not SYMBOL_RE.match(symbol):
            raise ValueError(f"invalid symbol {symbol!r}")
    in_list = ", ".join(f"'{s}'" for s in symbols)
    # Bars are partitioned by the ingest interval that carried the trades, which can be a day off the
    # bar's own minute around midnight: one day of slack on each side still prunes nearly everything.
    first_dt = layout.dt_hour(start - timedelta(days=1))[0]
    last_dt = layout.dt_hour(end + timedelta(days=1))[0]
    # A minute whose trades were appended on both sides of an interval boundary has one partial bar in
    # each interval's partition: merge them (open of the earliest trade, close of the latest).
    return (
        "SELECT symbol, minute, min_by(open, coalesce(first_trade_at, minute)) AS open, max(high) AS high, "
        "min(low) AS low, max_by(close, coalesce(last_trade_at, minute)) AS close, sum(volume) AS volume, "
        "sum(vwap * volume) / sum(volume) AS vwap, sum(trade_count) AS trade_count "
        f"FROM {table_ref(database, bars_table)} "
        f"WHERE symbol IN ({in_list}) AND dt >= '{first_dt}' AND dt <= '{last_dt}' "
        f"AND minute > {timestamp_literal(start)} AND minute <= {timestamp_literal(end)} "
        "GROUP BY symbol, minute ORDER BY symbol, minute"
    )


def _num(value: str | None, kind: type = float) -> float | int | None:
    if value is None or value == "":
        return None
    try:
        return kind(float(value)) if kind is int else kind(value)
    except ValueError:
        return None


def bars_series(rows: list[dict[str, str | None]], symbols: Sequence[str]) -> dict[str, dict[str, list[Any]]]:
    """Rows -> per-symbol columns (epoch seconds + OHLCV), the layout uPlot draws directly."""
    series: dict[str, dict[str, list[Any]]] = {
        s: {"t": [], "open": [], "high": [], "low": [], "close": [], "volume": [], "vwap": [], "trade_count": []}
        for s in symbols
    }
    for row in rows:
        symbol = row.get("symbol")
        minute = parse_timestamp(row.get("minute"))
        if symbol not in series or minute is None:
            continue
        col = series[symbol]
        col["t"].append(int(minute.timestamp()))
        for name in ("open", "high", "low", "close", "vwap"):
            col[name].append(_num(row.get(name)))
        col["volume"].append(_num(row.get("volume"), int))
        col["trade_count"].append(_num(row.get("trade_count"), int))
    return series
