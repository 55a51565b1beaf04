"""What a finished query returns: values rendered as Athena renders them, the result file, and the
GetQueryResults pages.

Athena hands back every value as text (``VarCharValue``) in Trino's spelling (``1.0E7``,
``2024-01-01 01:02:03.456``, ``[1, null]``), with ColumnInfo typed in Athena's names, and writes
the same rows to the output location (CSV for queries, tab-separated text for DDL and UTILITY).
Rendered rows of recent queries stay in memory; older ones are spilled to disk (:class:`ResultStore`).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import threading
from collections import OrderedDict
from typing import Any

from local_aws.athena.engine.context import Result
from local_aws.athena.errors import InvalidRequestException
from local_aws.athena.rendering import render

# result values kept in memory across all executions; older results are spilled to disk
MAX_RESIDENT_CELLS = int(os.environ.get("LOCAL_AWS_ATHENA_RESULT_CELLS", "2000000"))
MAX_PAGE = 1000

Rows = list[list[str | None]]


# --------------------------------------------------------------------------- values


def render_rows(result: Result) -> Rows:
    """Every value as Athena's text, chosen by its column's Trino type."""
    types = result.types
    return [[render(v, t) for v, t in zip(row, types, strict=False)] for row in result.rows]


# --------------------------------------------------------------------------- the result file


def output_file(result: Result, rows: Rows, statement_type: str) -> bytes:
    """The object Athena writes to the output location: CSV with a header for DML, else text lines."""
    buf = io.StringIO()
    if statement_type == "DML":
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        if result.columns:
            writer.writerow(result.columns)
        for row in rows:
            # Athena quotes every value and leaves NULL as an empty, unquoted field.
            buf.write(",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in row) + "\n")
    else:
        for row in rows:
            buf.write("\t".join("" if v is None else v for v in row) + "\n")
    return buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- GetQueryResults


def column_info(result: Result) -> list[dict[str, Any]]:
    info = []
    for name, t in zip(result.columns, result.types, strict=False):
        tname, precision, scale = t.column_info()
        info.append(
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": name,
                "Label": name,
                "Type": tname,
                "Precision": precision,
                "Scale": scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": tname == "varchar",
            }
        )
    return info


def page(
    query_id: str, result: Result, rows: Rows, statement_type: str, max_results: int | None, next_token: str | None
) -> dict[str, Any]:
    """One GetQueryResults page; a DML result's first row is the header, as in Athena."""
    if max_results is not None and not 1 <= int(max_results) <= MAX_PAGE:
        raise InvalidRequestException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_PAGE}"
        )
    limit = int(max_results or MAX_PAGE)
    header = result.header and statement_type == "DML" and bool(result.columns)
    total = len(rows) + (1 if header else 0)
    start = 0
    if next_token:
        try:
            token_qid, _, offset = base64.urlsafe_b64decode(next_token.encode()).decode().partition(":")
            start = int(offset)
            if token_qid != query_id:
                raise ValueError
        except Exception as err:
            raise InvalidRequestException("Invalid NextToken") from err
    end = min(start + limit, total)
    out: Rows = []
    for i in range(start, end):
        if header and i == 0:
            out.append(list(result.columns))
        else:
            out.append(rows[i - (1 if header else 0)])
    response: dict[str, Any] = {
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in out],
            "ResultSetMetadata": {"ColumnInfo": column_info(result)},
        },
    }
    if result.update_count is not None:
        response["UpdateCount"] = result.update_count
    if end < total:
        response["NextToken"] = base64.urlsafe_b64encode(f"{query_id}:{end}".encode()).decode()
    return response


# --------------------------------------------------------------------------- keeping rows


class ResultStore:
    """Rendered rows by query id: recent ones in memory, older ones spilled to JSON files, so a
    long-lived endpoint stays small while every result stays readable. Rows kept with a ``durable``
    path (the query history, when the endpoint has a state dir) are written there at once and read
    back from there after eviction or a restart (:meth:`adopt`)."""

    def __init__(self, spill_dir: str, max_cells: int = MAX_RESIDENT_CELLS) -> None:
        self.spill_dir = spill_dir
        self.max_cells = max_cells
        self._lock = threading.Lock()
        self._resident: OrderedDict[str, tuple[Rows, int]] = OrderedDict()  # id -> (rows, cells), oldest first
        self._spilling: dict[str, Rows] = {}  # being written: still served from memory
        self._spilled: dict[str, str] = {}
        self._cells = 0

    def keep(self, query_id: str, rows: Rows, width: int, durable: str | None = None) -> None:
        cells = len(rows) * max(1, width)
        victims: list[str] = []
        if durable is not None:
            tmp = f"{durable}.{os.getpid()}.tmp"
            with open(tmp, "w") as fh:
                json.dump(rows, fh)
            os.replace(tmp, durable)
            with self._lock:
                self._spilled[query_id] = durable
        with self._lock:
            self._resident[query_id] = (rows, cells)
            self._cells += cells
            while self._cells > self.max_cells and len(self._resident) > 1:
                old_id, (old_rows, old_cells) = self._resident.popitem(last=False)
                self._cells -= old_cells
                if old_rows and old_id not in self._spilled:
                    self._spilling[old_id] = old_rows
                    victims.append(old_id)
        for old_id in victims:
            path = os.path.join(self.spill_dir, f"{old_id}.json")
            os.makedirs(self.spill_dir, exist_ok=True)
            with open(path, "w") as fh:
                json.dump(self._spilling[old_id], fh)
            with self._lock:
                self._spilled[old_id] = path
                del self._spilling[old_id]

    def adopt(self, query_id: str, path: str) -> None:
        """Serve ``query_id``'s rows from a file written before (a restart)."""
        with self._lock:
            self._spilled[query_id] = path

    def rows(self, query_id: str) -> Rows:
        with self._lock:
            resident = self._resident.get(query_id)
            rows = resident[0] if resident is not None else self._spilling.get(query_id)
            path = self._spilled.get(query_id)
        if rows is not None:
            return rows
        if path is not None and os.path.exists(path):
            with open(path) as fh:
                return json.load(fh)
        return []
