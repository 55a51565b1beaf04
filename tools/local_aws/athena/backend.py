"""Query executions as Athena runs them: QUEUED -> RUNNING -> SUCCEEDED/FAILED/CANCELLED on workers.

One :class:`AthenaService` per account/region holds the executions, resolves the output location
(client setting, workgroup setting, ``EnforceWorkGroupConfiguration``), runs statements through
the :class:`~.engine.Engine` on a small thread pool, writes the CSV result to S3 and serves
``GetQueryResults`` pages. Workgroups stay in moto's Athena backend, whose gaps this fills.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import io
import json
import logging
import math
import os
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import sql as athena_sql
from .catalog import Catalog, split_s3_url
from .engine import Engine, QueryContext, Result
from .errors import (
    CATEGORY_SYSTEM,
    TYPE_INTERNAL,
    TYPE_RESULT_WRITE,
    InvalidRequestException,
    QueryFailed,
)

log = logging.getLogger(__name__)

NO_OUTPUT = (
    "No output location provided. An output location is required either through the Workgroup result "
    "configuration setting or as an API input."
)
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
# result values kept in memory across all executions; older results are spilled to disk
MAX_RESIDENT_CELLS = int(os.environ.get("LOCAL_AWS_ATHENA_RESULT_CELLS", "2000000"))


# --------------------------------------------------------------------------- value rendering


def java_double(x: float) -> str:
    """Render a double as Trino/Java does (``3.5``, ``1.0E7``, ``1.0E-4``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    a = abs(x)
    if 1e-3 <= a < 1e7:
        s = repr(float(x))
        if "e" in s or "E" in s:
            s = format(Decimal(s), "f")
        return s if "." in s else s + ".0"
    sign, digits, exponent = Decimal(repr(float(x))).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(digits) + int(exponent) - 1
    mantissa = ds[0] + "." + (ds[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{exp10}"


def render(value: Any) -> str | None:
    """Athena's text form of one value (None stays None = SQL NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        if value.tzinfo is not None:
            text += " UTC" if value.utcoffset() == dt.timedelta(0) else " " + value.strftime("%z")
        return text
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    if isinstance(value, dict):
        if set(value) == {"key", "value"} and isinstance(value.get("key"), list):
            pairs = zip(value["key"], value["value"], strict=False)
        else:
            pairs = value.items()
        return "{" + ", ".join(f"{_nested(k)}={_nested(v)}" for k, v in pairs) + "}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return " ".join(f"{b:02x}" for b in bytes(value))
    return str(value)


def _nested(value: Any) -> str:
    text = render(value)
    return "null" if text is None else text


_ATHENA_TYPES = {
    "BOOLEAN": ("boolean", 0),
    "TINYINT": ("tinyint", 3),
    "SMALLINT": ("smallint", 5),
    "INTEGER": ("integer", 10),
    "BIGINT": ("bigint", 19),
    "HUGEINT": ("bigint", 19),
    "UTINYINT": ("smallint", 5),
    "USMALLINT": ("integer", 10),
    "UINTEGER": ("bigint", 19),
    "UBIGINT": ("bigint", 19),
    "FLOAT": ("real", 17),
    "DOUBLE": ("double", 17),
    "VARCHAR": ("varchar", 2147483647),
    "BLOB": ("varbinary", 1073741824),
    "DATE": ("date", 0),
    "TIME": ("time", 3),
    "TIMESTAMP": ("timestamp", 3),
    "TIMESTAMP_MS": ("timestamp", 3),
    "TIMESTAMP_NS": ("timestamp", 3),
    "TIMESTAMP_S": ("timestamp", 3),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3),
    "INTERVAL": ("interval day to second", 0),
    "UUID": ("uuid", 0),
    "JSON": ("json", 0),
}


def athena_type(duck_type: str) -> tuple[str, int, int]:
    """DuckDB type -> (Athena type name, precision, scale) for ColumnInfo."""
    t = duck_type.strip().upper()
    if t in _ATHENA_TYPES:
        name, precision = _ATHENA_TYPES[t]
        return name, precision, 0
    if t.startswith("DECIMAL"):
        inner = t[t.find("(") + 1 : t.find(")")] if "(" in t else "18,3"
        p, _, s = inner.partition(",")
        return "decimal", int(p or 18), int(s or 0)
    if t.endswith("[]") or t.startswith("LIST"):
        return "array", 0, 0
    if t.startswith("STRUCT"):
        return "row", 0, 0
    if t.startswith("MAP"):
        return "map", 0, 0
    if t.startswith("TIMESTAMP"):
        return "timestamp", 3, 0
    return "varchar", 2147483647, 0


# --------------------------------------------------------------------------- executions


@dataclass
class Execution:
    id: str
    query: str
    statement_type: str
    context: dict[str, Any]
    workgroup: str
    output_location: str | None
    result_configuration: dict[str, Any]
    parameters: list[str] | None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    state: str = "QUEUED"
    error: QueryFailed | None = None
    result: Result | None = None
    rows: list[list[str | None]] = field(default_factory=list)
    spilled: str | None = None  # path of the rows on disk once evicted from memory
    scanned: int = 0
    ctx: QueryContext | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def substatement_type(self) -> str:
        body = athena_sql.strip_comments(self.query).upper().split()
        head = " ".join(body[:3]) if body else ""
        if head.startswith(("SELECT", "WITH", "VALUES", "(")):
            return "SELECT"
        if head.startswith("INSERT"):
            return "INSERT"
        if self.statement_type == "DML" and head.startswith("CREATE"):
            return "CREATE_TABLE_AS_SELECT"
        return "_".join(body[:2]) if body else "UNKNOWN"

    def describe(self) -> dict[str, Any]:
        queue_ms = int(((self.started or time.time()) - self.submitted) * 1000)
        engine_ms = int(((self.completed or time.time()) - (self.started or time.time())) * 1000)
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.error is not None and self.state in ("FAILED", "CANCELLED"):
            status["StateChangeReason"] = self.error.reason
            if self.state == "FAILED":
                status["AthenaError"] = self.error.athena_error()
        result_conf = dict(self.result_configuration)
        if self.output_location:
            result_conf["OutputLocation"] = self.output_location
        out: dict[str, Any] = {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "SubstatementType": self.substatement_type(),
            "ResultConfiguration": result_conf,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": self.context,
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": engine_ms,
                "DataScannedInBytes": self.scanned,
                "TotalExecutionTimeInMillis": queue_ms + engine_ms,
                "QueryQueueTimeInMillis": queue_ms,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup,
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
        }
        if self.parameters:
            out["ExecutionParameters"] = self.parameters
        return out


class AthenaService:
    """The real Athena behaviour for one account/region."""

    def __init__(self, account_id: str, region: str, sync_wait: float = 0.0, cache_dir: str | None = None) -> None:
        self.account_id = account_id
        self.region = region
        self.sync_wait = sync_wait
        self.catalog = Catalog(account_id, region, cache_dir)
        self.engine = Engine(self.catalog)
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="athena-query")
        self._resident: deque[str] = deque()
        self._resident_cells = 0

    # ------------------------------------------------------------------ workgroups (moto's store)
    @property
    def moto(self) -> Any:
        from moto.athena.models import athena_backends

        return athena_backends[self.account_id][self.region]

    def workgroup(self, name: str) -> Any:
        wg = self.moto.work_groups.get(name)
        if wg is None:
            raise InvalidRequestException(f"WorkGroup {name} is not found.")
        return wg

    def update_work_group(self, name: str, description: str | None, updates: dict[str, Any], state: str | None):
        wg = self.workgroup(name)
        conf = wg.configuration
        if description is not None:
            wg.description = description
        if state:
            wg.state = state
        for key in (
            "EnforceWorkGroupConfiguration",
            "PublishCloudWatchMetricsEnabled",
            "RequesterPaysEnabled",
            "BytesScannedCutoffPerQuery",
            "EngineVersion",
            "AdditionalConfiguration",
            "ExecutionRole",
            "EnableMinimumEncryptionConfiguration",
        ):
            if key in updates:
                conf[key] = updates[key]
        if updates.get("RemoveBytesScannedCutoffPerQuery"):
            conf.pop("BytesScannedCutoffPerQuery", None)
        rc_updates = updates.get("ResultConfigurationUpdates") or {}
        rc = conf.setdefault("ResultConfiguration", {})
        for key in ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration"):
            if key in rc_updates:
                rc[key] = rc_updates[key]
            if rc_updates.get(f"Remove{key}"):
                rc.pop(key, None)

    def _output_location(self, workgroup: str, result_conf: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        wg = self.workgroup(workgroup)
        if getattr(wg, "state", "ENABLED") == "DISABLED":
            raise InvalidRequestException(f"WorkGroup {workgroup} is disabled.")
        wg_conf = wg.configuration or {}
        wg_result = wg_conf.get("ResultConfiguration") or {}
        enforce = bool(wg_conf.get("EnforceWorkGroupConfiguration", False))
        if enforce and wg_result.get("OutputLocation"):
            location, effective = wg_result["OutputLocation"], {**wg_result}
        else:
            location = result_conf.get("OutputLocation") or wg_result.get("OutputLocation")
            effective = {**wg_result, **result_conf}
        if not location:
            raise InvalidRequestException(NO_OUTPUT)
        try:
            bucket, _ = split_s3_url(location)
        except ValueError as err:
            raise InvalidRequestException(f"Invalid output location {location}") from err
        if not bucket or not self.catalog.bucket_exists(bucket):
            raise InvalidRequestException(f"Unable to verify/create output bucket {bucket}")
        effective.pop("OutputLocation", None)
        return location, effective

    # ------------------------------------------------------------------ lifecycle
    def start(
        self,
        query: str | None,
        context: dict[str, Any] | None,
        result_conf: dict[str, Any] | None,
        workgroup: str | None,
        parameters: list[str] | None,
        token: str | None,
    ) -> str:
        if not query or not query.strip():
            raise InvalidRequestException("Query string is empty")
        if len(query) > 262144:
            raise InvalidRequestException("Query string is too long (262144 characters at most)")
        if token and token in self.tokens:
            return self.tokens[token]
        workgroup = workgroup or "primary"
        location, effective = self._output_location(workgroup, result_conf or {})
        context = dict(context or {})
        context.setdefault("Catalog", "awsdatacatalog")
        qid = str(uuid.uuid4())
        kind = athena_sql.statement_type(query)
        extension = "csv" if kind == "DML" else "txt"
        output = location.rstrip("/") + f"/{qid}.{extension}"
        execution = Execution(
            id=qid,
            query=query,
            statement_type=kind,
            context=context,
            workgroup=workgroup,
            output_location=output,
            result_configuration=effective,
            parameters=list(parameters) if parameters else None,
        )
        execution.ctx = QueryContext(
            query_id=qid,
            database=context.get("Database"),
            catalog_name=context.get("Catalog"),
            output_location=location,
            parameters=parameters,
        )
        with self._lock:
            self.executions[qid] = execution
            if token:
                self.tokens[token] = qid
        self._pool.submit(self._run, execution)
        if self.sync_wait > 0:
            execution.done.wait(self.sync_wait)
        return qid

    def _run(self, execution: Execution) -> None:
        ctx = execution.ctx
        assert ctx is not None
        with execution.lock:
            if execution.state != "QUEUED":
                execution.done.set()
                return
            execution.state = "RUNNING"
            execution.started = time.time()
        try:
            result = self.engine.execute(execution.query, ctx)
            rows = [[render(v) for v in row] for row in result.rows]
            execution.result = result
            execution.rows = rows
            execution.scanned = result.data_scanned
            self._write_output(execution)
            self._keep_rows(execution)
            final, error = "SUCCEEDED", None
        except QueryFailed as err:
            final, error = "FAILED", err
        except Exception as err:  # never let a bug hang a poller
            log.exception("query %s crashed", execution.id)
            final, error = (
                "FAILED",
                QueryFailed(
                    "GENERIC_INTERNAL_ERROR",
                    str(err) or type(err).__name__,
                    error_type=TYPE_INTERNAL,
                    category=CATEGORY_SYSTEM,
                ),
            )
        with execution.lock:
            if execution.state == "CANCELLED":
                execution.done.set()
                return
            if ctx.cancelled.is_set():
                final, error = "CANCELLED", QueryFailed("", "Query cancelled by user")
            execution.state = final
            execution.error = error
            execution.completed = time.time()
        execution.done.set()

    def _write_output(self, execution: Execution) -> None:
        result = execution.result
        assert result is not None and execution.output_location
        buf = io.StringIO()
        if execution.statement_type == "DML":
            writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
            if result.columns:
                writer.writerow(result.columns)
            for row in execution.rows:
                # Athena quotes every value and leaves NULL as an empty, unquoted field.
                buf.write(",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in row) + "\n")
        else:
            for row in execution.rows:
                buf.write("\t".join("" if v is None else v for v in row) + "\n")
        bucket, key = split_s3_url(execution.output_location)
        try:
            self.catalog.put_object(bucket, key, buf.getvalue().encode("utf-8"))
        except Exception as err:
            raise QueryFailed(
                "",
                f"Unable to write query results to {execution.output_location}: {err}",
                error_type=TYPE_RESULT_WRITE,
                category=CATEGORY_SYSTEM,
            ) from err

    def _keep_rows(self, execution: Execution) -> None:
        """Hold recent results in memory; spill older ones to disk so a long-lived endpoint stays small."""
        cells = len(execution.rows) * max(1, len(execution.result.columns if execution.result else []))
        to_spill: list[Execution] = []
        with self._lock:
            self._resident.append(execution.id)
            self._resident_cells += cells
            while self._resident_cells > MAX_RESIDENT_CELLS and len(self._resident) > 1:
                old = self.executions.get(self._resident.popleft())
                if old is not None and old.rows:
                    self._resident_cells -= len(old.rows) * max(1, len(old.result.columns if old.result else []))
                    to_spill.append(old)
        for old in to_spill:
            path = os.path.join(self.catalog.cache_dir, "results", f"{old.id}.json")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                json.dump(old.rows, fh)
            old.spilled, old.rows = path, []

    def _rows(self, execution: Execution) -> list[list[str | None]]:
        if execution.spilled and not execution.rows:
            with open(execution.spilled) as fh:
                return json.load(fh)
        return execution.rows

    def get(self, qid: str | None) -> Execution:
        execution = self.executions.get(qid or "")
        if execution is None:
            raise InvalidRequestException(f"QueryExecution {qid} was not found")
        return execution

    def stop(self, qid: str | None) -> None:
        execution = self.get(qid)
        with execution.lock:
            if execution.state in TERMINAL:
                return
            execution.state = "CANCELLED"
            execution.completed = time.time()
            execution.error = QueryFailed("", "Query cancelled by user")
        ctx = execution.ctx
        if ctx is not None:
            ctx.cancelled.set()
            con = ctx.connection
            if con is not None:
                with contextlib.suppress(Exception):
                    con.interrupt()
        execution.done.set()

    def runtime_statistics(self, qid: str | None) -> dict[str, Any]:
        """GetQueryRuntimeStatistics: timeline and row counts (no per-stage plan locally)."""
        execution = self.get(qid)
        stats = execution.describe()["Statistics"]
        out_rows = len(self._rows(execution))
        timeline = {
            k: stats[k]
            for k in (
                "EngineExecutionTimeInMillis",
                "QueryQueueTimeInMillis",
                "QueryPlanningTimeInMillis",
                "ServicePreProcessingTimeInMillis",
                "ServiceProcessingTimeInMillis",
                "TotalExecutionTimeInMillis",
            )
        }
        return {
            "Timeline": timeline,
            "Rows": {"InputRows": 0, "InputBytes": execution.scanned, "OutputBytes": 0, "OutputRows": out_rows},
        }

    def list_ids(self, workgroup: str | None) -> list[str]:
        wg = workgroup or "primary"
        items = [e for e in self.executions.values() if e.workgroup == wg]
        items.sort(key=lambda e: e.submitted, reverse=True)
        return [e.id for e in items]

    # ------------------------------------------------------------------ results
    def column_info(self, execution: Execution) -> list[dict[str, Any]]:
        result = execution.result
        if result is None:
            return []
        info = []
        for name, dtype in zip(result.columns, result.types, strict=False):
            tname, precision, scale = athena_type(dtype)
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

    def results(self, qid: str | None, max_results: int | None, next_token: str | None) -> dict[str, Any]:
        execution = self.get(qid)
        if execution.state in ("QUEUED", "RUNNING"):
            raise InvalidRequestException(f"Query has not yet finished. Current state: {execution.state}")
        if execution.state != "SUCCEEDED":
            reason = execution.error.reason if execution.error else ""
            raise InvalidRequestException(
                f"Query did not finish successfully. Final query state: {execution.state}"
                + (f"\n{reason}" if reason else "")
            )
        if max_results is not None and not 1 <= int(max_results) <= 1000:
            raise InvalidRequestException(
                f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
                "constraint: Member must have value less than or equal to 1000"
            )
        limit = int(max_results or 1000)
        result = execution.result
        assert result is not None
        all_rows: list[list[str | None]] = []
        data = self._rows(execution)
        header = result.header and execution.statement_type == "DML" and bool(result.columns)
        total = len(data) + (1 if header else 0)
        start = 0
        if next_token:
            try:
                token_qid, _, offset = base64.urlsafe_b64decode(next_token.encode()).decode().partition(":")
                start = int(offset)
                if token_qid != execution.id:
                    raise ValueError
            except Exception as err:
                raise InvalidRequestException("Invalid NextToken") from err
        end = min(start + limit, total)
        for i in range(start, end):
            if header and i == 0:
                all_rows.append(list(result.columns))
            else:
                all_rows.append(data[i - (1 if header else 0)])
        response: dict[str, Any] = {
            "ResultSet": {
                "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in all_rows],
                "ResultSetMetadata": {"ColumnInfo": self.column_info(execution)},
            },
        }
        if result.update_count is not None:
            response["UpdateCount"] = result.update_count
        if end < total:
            response["NextToken"] = base64.urlsafe_b64encode(f"{execution.id}:{end}".encode()).decode()
        return response

    # ------------------------------------------------------------------ persistence of workgroups
    def dump_workgroups(self) -> dict[str, Any]:
        return {
            name: {"description": wg.description, "configuration": wg.configuration, "state": wg.state}
            for name, wg in self.moto.work_groups.items()
        }

    def load_workgroups(self, data: dict[str, Any]) -> None:
        for name, item in (data or {}).items():
            if name not in self.moto.work_groups:
                self.moto.create_work_group(name, dict(item.get("configuration") or {}), item.get("description"), [])
            wg = self.moto.work_groups[name]
            wg.configuration = dict(item.get("configuration") or {})
            wg.description = item.get("description")
            wg.state = item.get("state") or "ENABLED"
