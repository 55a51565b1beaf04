"""The page's data logic without services: parameters, lag, throughput, summaries, SQL, Athena polling."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from market_pipeline.manifest import Manifest, ObjectEntry, PartitionSummary
from market_ui import queries
from market_ui.lag import appended_since, compute_lag
from market_ui.lakeview import summarise_manifest, summarise_report
from market_ui.params import ParamError, parse_end, parse_limit, parse_minutes, parse_symbols

# ---------------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------------


def test_symbols_are_trimmed_deduplicated_and_kept_in_order() -> None:
    assert parse_symbols(" MSFT, AAPL ,MSFT,BRK.B,,") == ["MSFT", "AAPL", "BRK.B"]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("aapl", "not a valid symbol"),
        ("1ABC", "not a valid symbol"),
        ("ABCDEFGHIJK", "not a valid symbol"),  # 11 characters
        ("AAPL'--", "not a valid symbol"),
        ("A B", "not a valid symbol"),
        (",".join(f"S{i}" for i in range(11)), "at most 10"),
        ("", "at least one"),
        (" , ", "at least one"),
        (None, "at least one"),
    ],
)
def test_bad_symbols_raise_a_clear_message(raw: str | None, needle: str) -> None:
    with pytest.raises(ParamError, match=needle):
        parse_symbols(raw)


def test_ten_symbols_of_ten_characters_are_fine() -> None:
    symbols = [f"A{i}CDEFGHIJ" for i in range(10)]
    assert parse_symbols(",".join(symbols)) == symbols


@pytest.mark.parametrize(("raw", "expected"), [(None, 60), ("", 60), ("1", 1), ("1440", 1440), (" 90 ", 90)])
def test_minutes_within_bounds(raw: str | None, expected: int) -> None:
    assert parse_minutes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("0", "between 1 and 1440"),
        ("1441", "between 1 and 1440"),
        ("-5", "between"),
        ("1.5", "whole number"),
        ("x", "whole number"),
    ],
)
def test_minutes_out_of_bounds(raw: str, needle: str) -> None:
    with pytest.raises(ParamError, match=needle):
        parse_minutes(raw)


def test_limit_and_end() -> None:
    assert parse_limit(None) == 10 and parse_limit("100") == 100
    with pytest.raises(ParamError):
        parse_limit("101")
    assert parse_end(None) is None and parse_end("latest") is None
    assert parse_end("2026-11-25T15:30:00Z") == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert parse_end("2026-11-25T16:30:00+01:00") == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert parse_end("2026-11-25 15:30") == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # naive is UTC
    for bad in ("yesterday", "1900-01-01T00:00:00Z"):
        with pytest.raises(ParamError, match="end"):
            parse_end(bad)


# ---------------------------------------------------------------------------------------------------
# Lag and throughput
# ---------------------------------------------------------------------------------------------------


def test_lag_is_high_watermark_minus_committed() -> None:
    rows = compute_lag(high={1: 7, 0: 10, 2: 5}, committed={0: 4, 1: None, 2: 5}, low={0: 0, 1: 2, 2: 0})
    assert [(r.partition, r.committed, r.lag) for r in rows] == [(0, 4, 6), (1, None, 5), (2, 5, 0)]


def test_lag_edge_cases_never_go_negative_or_count_deleted_messages() -> None:
    rows = compute_lag(high={0: 100, 1: 3}, committed={0: 10, 1: 50}, low={0: 40, 1: 0})
    assert rows[0].lag == 60  # committed below the log start: only retained messages are readable
    assert rows[1].lag == 0  # committed past the watermark (topic recreated): not negative
    assert compute_lag({0: 5}, {0: -1001})[0].committed is None  # librdkafka's OFFSET_INVALID


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_messages_appended_since_an_instant_from_offsets_by_timestamp() -> None:
    """Per partition: high watermark minus the first offset at or after the instant; -1 = none that recent."""
    high = {0: 100, 1: 50, 2: 7}
    assert appended_since(high, {0: 40, 1: -1, 2: 0}) == 60 + 0 + 7
    assert appended_since(high, {0: -1, 1: -1, 2: -1}) == 0
    assert appended_since({0: 10}, {0: 10}) == 0, "offset at the watermark: nothing newer"


def test_the_producer_panel_counts_undelivered_ticks_per_run() -> None:
    from market_ui.producer import producer_panel

    rows = [
        {
            "run_id": "r3",
            "state": "running",
            "conf": {"rate": 200},
            "summary": None,
            "progress": {"sent": 500, "delivered": 480, "failed": 0, "in_flight": 20},
        },
        {
            "run_id": "r2",
            "state": "failed",
            "conf": {},
            "progress": {"sent": 9},
            "summary": {
                "sent": 1000,
                "delivered": 880,
                "failed": 120,
                "rate": 195.5,
                "stop_reason": "ticks undelivered",
            },
        },
        {"run_id": "r1", "state": "queued", "conf": {}, "summary": None, "progress": None},
    ]
    panel = producer_panel(rows)
    running, failed, queued = panel["runs"]
    assert panel["running"] == running and (running["sent"], running["in_flight"], running["rate"]) == (500, 20, 200)
    assert (failed["undelivered"], failed["rate"], failed["final"]) == (120, 195.5, True), "the summary wins"
    assert queued["sent"] is None and queued["undelivered"] is None
    assert (panel["undelivered_total"], panel["runs_with_losses"]) == (120, 1)


# ---------------------------------------------------------------------------------------------------
# Manifest and report summaries
# ---------------------------------------------------------------------------------------------------


def _manifest(status: str = "ok", dlq: int = 0, rows: int = 90) -> Manifest:
    end = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    objects = [
        ObjectEntry("raw/ticks/dt=2026-11-25/hour=10/t+0+0+49.parquet", "data", 0, 0, 49, 50, 4000, "2026-11-25", 10),
        ObjectEntry(
            "raw/ticks/dt=2026-11-25/hour=10/t+1+0+39.parquet", "data", 1, 0, 39, rows - 50, 3000, "2026-11-25", 10
        ),
    ]
    if dlq:
        objects.append(
            ObjectEntry("dlq/ticks/dt=2026-11-25/t+1+40+41.parquet", "dlq", 1, 40, 41, dlq, 512, "2026-11-25")
        )
    return Manifest(
        table="ticks",
        topic="t",
        window_start=end - timedelta(minutes=5),
        window_end=end,
        schema_version=1,
        partitions=(PartitionSummary(0, 0, 50, 50, 50, 0), PartitionSummary(1, 0, 40 + dlq, 40 + dlq, rows - 50, dlq)),
        objects=tuple(objects),
        status=status,
    )


def test_manifest_summary_counts_objects_and_bytes() -> None:
    row = summarise_manifest(_manifest(dlq=2))
    assert row["window_start"] == "2026-11-25T10:00:00Z" and row["window_end"] == "2026-11-25T10:05:00Z"
    assert (row["messages_in"], row["rows_out"], row["dlq_count"], row["unaccounted"]) == (92, 90, 2, 0)
    assert (row["data_objects"], row["data_bytes"], row["dlq_objects"], row["dlq_bytes"]) == (2, 7000, 1, 512)
    assert row["problem"] is True  # dead letters deserve a look
    assert summarise_manifest(_manifest())["problem"] is False


def test_manifest_summary_flags_unaccounted_messages() -> None:
    row = summarise_manifest(_manifest(rows=80))
    assert row["unaccounted"] == 10 and row["problem"] is True


def test_report_summary_lists_failed_checks() -> None:
    doc = {
        "report_version": 1,
        "table": "ticks",
        "interval_start": "2026-11-25T09:00:00Z",
        "interval_end": "2026-11-25T10:00:00Z",
        "status": "failed",
        "checks": [
            {
                "name": "row_count_matches_manifests",
                "passed": False,
                "expected": 10,
                "actual": 9,
                "message": "1 missing",
            },
            {"name": "bid_le_ask", "passed": True, "expected": 0, "actual": 0, "message": "ok"},
        ],
        "athena_rows": 9,
        "manifest_rows": 10,
        "generated_at": "2026-11-25T10:07:00Z",
    }
    row = summarise_report(doc, "k")
    assert row["status"] == "failed" and row["checks_failed"] == 1 and row["checks_total"] == 2
    assert row["failed_checks"] == [
        {"name": "row_count_matches_manifests", "expected": 10, "actual": 9, "message": "1 missing"}
    ]


def test_report_summary_survives_odd_documents() -> None:
    assert summarise_report({})["status"] == "unknown"
    derived = summarise_report({"checks": [{"name": "x", "passed": False}, "junk"]})
    assert derived["status"] == "failed" and derived["checks_total"] == 1


# ---------------------------------------------------------------------------------------------------
# SQL, result parsing, cache, Athena polling
# ---------------------------------------------------------------------------------------------------


def test_bars_sql_prunes_partitions_and_quotes_names() -> None:
    sql = queries.bars_sql(
        "stock_market",
        "bars_1m",
        ["AAPL", "BRK.B"],
        datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
        datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
    )
    assert 'FROM "stock_market"."bars_1m"' in sql
    assert "symbol IN ('AAPL', 'BRK.B')" in sql
    assert "dt >= '2026-11-23' AND dt <= '2026-11-26'" in sql
    assert "minute > TIMESTAMP '2026-11-24 23:30:00.000' AND minute <= TIMESTAMP '2026-11-25 00:30:00.000'" in sql
    with pytest.raises(ValueError):
        queries.bars_sql("db", "t", ["X'); DROP"], datetime.now(UTC), datetime.now(UTC))
    with pytest.raises(ValueError):
        queries.table_ref("db;", "t")


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25 10:05:00.000",
        "2026-11-25 10:05:00",
        "2026-11-25T10:05:00Z",
        "2026-11-25 10:05:00.000 UTC",
        "2026-11-25 10:05:00+00:00",
        "2026-11-25 11:05:00+01:00",
    ],
)
def test_athena_timestamps_parse_to_utc(text: str) -> None:
    assert queries.parse_timestamp(text) == datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


def test_bars_series_is_columnar_per_symbol() -> None:
    rows = [
        {
            "symbol": "AAPL",
            "minute": "2026-11-25 10:00:00.000",
            "open": "1",
            "high": "2",
            "low": "0.5",
            "close": "1.5",
            "volume": "100",
            "vwap": "1.2",
            "trade_count": "3",
        },
        {"symbol": "ZZZ", "minute": "2026-11-25 10:00:00.000"},  # not asked for: ignored
    ]
    series = queries.bars_series(rows, ["AAPL", "MSFT"])
    assert series["AAPL"]["t"] == [int(datetime(2026, 11, 25, 10, tzinfo=UTC).timestamp())]
    assert series["AAPL"]["close"] == [1.5] and series["AAPL"]["volume"] == [100]
    assert series["MSFT"]["t"] == []


def test_ttl_cache_reuses_values_and_briefly_remembers_failures() -> None:
    clock = FakeClock()
    cache = queries.TTLCache(ttl=30, error_ttl=5, clock=clock)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == (1, 0.0)
    clock.now = 29
    assert cache.get("k", compute) == (1, 29)
    clock.now = 30
    assert cache.get("k", compute)[0] == 2

    def boom() -> int:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        cache.get("e", boom)
    clock.now = 34
    with pytest.raises(RuntimeError):
        cache.get("e", compute)  # still the cached failure: no new query
    clock.now = 36
    assert cache.get("e", compute)[0] == 3


def test_ttl_cache_is_single_flight() -> None:
    cache = queries.TTLCache(ttl=30)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        return "v"

    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow)[0])) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait(5)
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["v"] * 4 and len(calls) == 1


class FakeAthena:
    """Just enough of boto3's Athena client: states to walk through and result pages."""

    def __init__(self, states: list[dict[str, Any]], pages: list[dict[str, Any]] | None = None) -> None:
        self.states = states
        self.pages = pages or []
        self.started: list[dict[str, Any]] = []
        self.stopped: list[str] = []

    def start_query_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return {"QueryExecutionId": "q1"}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"QueryExecution": {"Status": state}}

    def get_query_results(self, **kwargs: Any) -> dict[str, Any]:
        return self.pages[1] if "NextToken" in kwargs else self.pages[0]

    def stop_query_execution(self, QueryExecutionId: str) -> None:
        self.stopped.append(QueryExecutionId)


def _page(rows: list[list[str | None]], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "ResultSet": {
            "ResultSetMetadata": {"ColumnInfo": [{"Name": "symbol"}, {"Name": "newest"}]},
            "Rows": [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]} for row in rows],
        }
    }
    if token:
        page["NextToken"] = token
    return page


def test_runner_polls_skips_the_header_and_follows_pages() -> None:
    fake = FakeAthena(
        [{"State": "QUEUED"}, {"State": "RUNNING"}, {"State": "SUCCEEDED"}],
        [_page([["symbol", "newest"], ["AAPL", "2026-11-25 10:00:00.000"]], token="t"), _page([["MSFT", None]])],
    )
    runner = queries.AthenaRunner(lambda: fake, "wg", "s3://b/athena-results/", "db", timeout=5, poll_interval=0)
    assert runner.query("SELECT 1") == [
        {"symbol": "AAPL", "newest": "2026-11-25 10:00:00.000"},
        {"symbol": "MSFT", "newest": None},
    ]
    assert fake.started[0]["WorkGroup"] == "wg"
    assert fake.started[0]["QueryExecutionContext"] == {"Database": "db"}


def test_runner_reports_failures_and_stops_slow_queries() -> None:
    failed = FakeAthena([{"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: ticks"}])
    runner = queries.AthenaRunner(lambda: failed, "wg", "s3://b/", "db", timeout=5, poll_interval=0)
    with pytest.raises(queries.QueryError, match="TABLE_NOT_FOUND"):
        runner.query("SELECT 1")

    slow = FakeAthena([{"State": "RUNNING"}])
    runner = queries.AthenaRunner(lambda: slow, "wg", "s3://b/", "db", timeout=0.05, poll_interval=0.01)
    with pytest.raises(queries.QueryError, match="did not finish"):
        runner.query("SELECT 1")
    assert slow.stopped == ["q1"]


def test_freshness_status() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    class Runner:
        database = "db"

        def __init__(self, answers: list[str | None]) -> None:
            self.answers = answers
            self.sql: list[str] = []

        def query(self, sql: str) -> list[dict[str, str | None]]:
            self.sql.append(sql)
            return [{"newest": self.answers.pop(0)}]

    fresh = queries.freshness(Runner(["2026-11-25 11:58:00.000"]), "ticks", now)  # type: ignore[arg-type]
    assert fresh == {"newest_event_time": "2026-11-25T11:58:00Z", "age_seconds": 120.0, "status": "fresh"}
    old = Runner([None, "2026-11-20 10:00:00.000"])
    assert queries.freshness(old, "ticks", now)["status"] == "stale"  # type: ignore[arg-type]
    assert "dt >= '2026-11-23'" in old.sql[0] and "WHERE" not in old.sql[1]  # recent partitions first
    assert queries.freshness(Runner([None, None]), "ticks", now)["status"] == "empty"  # type: ignore[arg-type]
    assert queries.freshness(Runner(["2026-11-25 14:00:00"]), "ticks", now)["status"] == "ahead"  # type: ignore[arg-type]
