"""The query history's records on disk: retention, queries cut off by a restart, result types."""

from __future__ import annotations

import json
import time
from pathlib import Path

from local_aws.athena.engine.context import Result
from local_aws.athena.history import RETENTION_SECONDS, History, result_from, result_record
from local_aws.athena.sql import types as T


def _record(qid: str, state: str, submitted: float) -> dict:
    return {"id": qid, "state": state, "submitted": submitted, "query": "SELECT 1", "statement_type": "DML"}


def test_records_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    history = History(str(tmp_path))
    now = time.time()
    history.save(_record("old", "SUCCEEDED", now - RETENTION_SECONDS - 60))
    (tmp_path / "old.rows.json").write_text("[]")
    history.save(_record("new", "SUCCEEDED", now - 60))
    assert [r["id"] for r in history.load(now)] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json"]


def test_a_query_running_at_shutdown_comes_back_failed(tmp_path: Path) -> None:
    history = History(str(tmp_path))
    history.save(_record("cut", "RUNNING", time.time()))
    (record,) = history.load()
    assert record["state"] == "FAILED"
    assert record["error"]["error"] == "GENERIC_INTERNAL_ERROR"
    assert json.loads((tmp_path / "cut.json").read_text())["state"] == "FAILED"


def test_result_types_round_trip() -> None:
    types = [T.decimal(12, 2), T.timestamp_tz(3, "UTC"), T.UNKNOWN, T.row([("a", T.INTEGER)]), T.INTERVAL_YEAR_MONTH]
    restored = result_from(result_record(Result(["a", "b", "c", "d", "e"], types, [], update_count=None)))
    assert [t.column_info() for t in restored.types] == [t.column_info() for t in types]
