"""Query history that survives a restart, as Athena keeps it (45 days): each execution as one JSON record,
its rendered result rows beside it.

Why: a caller stores a QueryExecutionId and fetches the results later (the catalog DAG's report task
does), possibly after the endpoint restarted. A record is written when the query is submitted and
again when it ends, atomically, one small file per execution (no rewrite of a growing index); the rows
are written once, when the query succeeds, and read back only when asked for. A query that was still
running when the endpoint stopped comes back FAILED, with a reason that says so, rather than missing.
Records older than the retention are deleted at start-up.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from local_aws.athena.engine.context import Result
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T

log = logging.getLogger(__name__)

RETENTION_SECONDS = 45 * 24 * 3600
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
INTERRUPTED = QueryFailed(
    "GENERIC_INTERNAL_ERROR", "The local Athena endpoint stopped while this query was running; run it again"
)


def _write_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, default=str))
    os.replace(tmp, path)


def _type_from(text: str) -> T.TrinoType:
    try:
        return T.UNKNOWN if text == "unknown" else T.parse_trino(text)
    except Exception:  # a type this version cannot parse still renders as text
        return T.VARCHAR


def result_record(result: Result) -> dict[str, Any]:
    return {
        "columns": result.columns,
        "types": [t.display() for t in result.types],
        "scanned": result.data_scanned,
        "header": result.header,
        "update_count": result.update_count,
    }


def result_from(record: dict[str, Any]) -> Result:
    return Result(
        list(record["columns"]),
        [_type_from(t) for t in record["types"]],
        [],
        data_scanned=int(record.get("scanned") or 0),
        header=bool(record.get("header", True)),
        update_count=record.get("update_count"),
    )


def error_record(error: QueryFailed | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"error": error.error, "detail": error.detail, "position": list(error.position) if error.position else None}


def error_from(record: dict[str, Any] | None) -> QueryFailed | None:
    if not record:
        return None
    position = tuple(record["position"]) if record.get("position") else None
    return QueryFailed(record["error"], record["detail"], position=position)  # type: ignore[arg-type]


class History:
    """The executions of one account/region on disk (``directory`` None: nothing is kept)."""

    def __init__(self, directory: str | None) -> None:
        self.directory = Path(directory) if directory else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)

    def rows_path(self, query_id: str) -> str | None:
        return str(self.directory / f"{query_id}.rows.json") if self.directory is not None else None

    def save(self, record: dict[str, Any]) -> None:
        if self.directory is None:
            return
        try:
            _write_atomic(self.directory / f"{record['id']}.json", record)
        except OSError:
            log.exception("cannot save query execution %s", record.get("id"))

    def load(self, now: float | None = None) -> list[dict[str, Any]]:
        """Every kept record, oldest first; expired ones (and their rows) are deleted."""
        if self.directory is None:
            return []
        limit = (now or time.time()) - RETENTION_SECONDS
        records = []
        for path in self.directory.glob("*.json"):
            if path.name.endswith(".rows.json"):
                continue
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                log.warning("skipping unreadable query record %s", path)
                continue
            if float(record.get("submitted") or 0) < limit:
                for stale in (path, self.directory / f"{record.get('id')}.rows.json"):
                    stale.unlink(missing_ok=True)
                continue
            if record.get("state") not in TERMINAL:
                record["state"] = "FAILED"
                record["error"] = error_record(INTERRUPTED)
                record["completed"] = record.get("completed") or record.get("started") or record.get("submitted")
                self.save(record)
            records.append(record)
        records.sort(key=lambda r: float(r.get("submitted") or 0))
        return records
