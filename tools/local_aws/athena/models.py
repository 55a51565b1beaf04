"""Query executions as Athena runs them: QUEUED -> RUNNING -> SUCCEEDED/FAILED/CANCELLED on workers.

One :class:`AthenaService` per account/region (:data:`athena_services`, as moto's backend dicts)
holds the executions, resolves the output location (client setting, workgroup setting,
``EnforceWorkGroupConfiguration``), runs statements through the
:class:`~local_aws.athena.engine.Engine` on a small thread pool and writes the result file to S3;
``results`` renders and pages what a query returned. Workgroups stay in moto's Athena backend,
whose gaps this fills.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto.athena.models import AthenaBackend, WorkGroup, athena_backends

from local_aws.athena import history, results
from local_aws.athena.catalog import Catalog, split_s3_url
from local_aws.athena.engine import Engine
from local_aws.athena.engine.context import QueryContext, Result
from local_aws.athena.errors import InvalidRequestException, QueryFailed
from local_aws.athena.executions import Execution
from local_aws.athena.sql.parse import statement_type

log = logging.getLogger(__name__)

NO_OUTPUT = (
    "No output location provided. An output location is required either through the Workgroup result "
    "configuration setting or as an API input."
)
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
MAX_QUERY_LENGTH = 262144
_WORKGROUP_SETTINGS = (
    "EnforceWorkGroupConfiguration",
    "PublishCloudWatchMetricsEnabled",
    "RequesterPaysEnabled",
    "BytesScannedCutoffPerQuery",
    "EngineVersion",
    "AdditionalConfiguration",
    "ExecutionRole",
    "EnableMinimumEncryptionConfiguration",
)
_RESULT_SETTINGS = ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration")


class AthenaService:
    """The real Athena behaviour for one account/region."""

    def __init__(
        self,
        account_id: str,
        region: str,
        sync_wait: float = 0.0,
        cache_dir: str | None = None,
        history_dir: str | None = None,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.sync_wait = sync_wait
        self.catalog = Catalog(account_id, region, cache_dir)
        self.engine = Engine(self.catalog)
        self.results = results.ResultStore(os.path.join(self.catalog.cache_dir, "results"))
        self.history = history.History(history_dir)
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="athena-query")
        for record in self.history.load():
            execution = Execution.restore(record)
            self.executions[execution.id] = execution
            if execution.token:
                self.tokens[execution.token] = execution.id
            rows = self.history.rows_path(execution.id)
            if execution.state == "SUCCEEDED" and rows is not None:
                self.results.adopt(execution.id, rows)

    # ------------------------------------------------------------------ workgroups (moto's store)
    @property
    def moto(self) -> AthenaBackend:
        return athena_backends[self.account_id][self.region]

    def workgroup(self, name: str) -> WorkGroup:
        wg = self.moto.work_groups.get(name)
        if wg is None:
            raise InvalidRequestException(f"WorkGroup {name} is not found.")
        return wg

    def update_work_group(self, name: str, description: str | None, updates: dict[str, Any], state: str | None) -> None:
        wg = self.workgroup(name)
        conf = wg.configuration
        if description is not None:
            wg.description = description
        if state:
            wg.state = state
        for key in _WORKGROUP_SETTINGS:
            if key in updates:
                conf[key] = updates[key]
        if updates.get("RemoveBytesScannedCutoffPerQuery"):
            conf.pop("BytesScannedCutoffPerQuery", None)
        rc_updates = updates.get("ResultConfigurationUpdates") or {}
        rc = conf.setdefault("ResultConfiguration", {})
        for key in _RESULT_SETTINGS:
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
        if len(query) > MAX_QUERY_LENGTH:
            raise InvalidRequestException(f"Query string is too long ({MAX_QUERY_LENGTH} characters at most)")
        if token and token in self.tokens:
            return self.tokens[token]
        workgroup = workgroup or "primary"
        location, effective = self._output_location(workgroup, result_conf or {})
        context = dict(context or {})
        context.setdefault("Catalog", "awsdatacatalog")
        qid = str(uuid.uuid4())
        kind = statement_type(query)
        extension = "csv" if kind == "DML" else "txt"
        execution = Execution(
            id=qid,
            query=query,
            statement_type=kind,
            context=context,
            workgroup=workgroup,
            output_location=location.rstrip("/") + f"/{qid}.{extension}",
            result_configuration=effective,
            parameters=list(parameters) if parameters else None,
            token=token,
            ctx=QueryContext(
                query_id=qid,
                database=context.get("Database"),
                output_location=location,
                parameters=parameters,
            ),
        )
        with self._lock:
            self.executions[qid] = execution
            if token:
                self.tokens[token] = qid
        self.history.save(execution.record())
        self._pool.submit(self._run, execution)
        if self.sync_wait > 0:
            execution.done.wait(self.sync_wait)
        return qid

    def _run(self, execution: Execution) -> None:
        ctx = execution.ctx
        with execution.lock:
            if execution.state != "QUEUED":
                execution.done.set()
                return
            execution.state = "RUNNING"
            execution.started = time.time()
        try:
            result = self.engine.execute(execution.query, ctx)
            rows = results.render_rows(result)
            execution.result = result
            execution.scanned = result.data_scanned
            self._write_output(execution, result, rows)
            self.results.keep(execution.id, rows, len(result.columns), durable=self.history.rows_path(execution.id))
            final, error = "SUCCEEDED", None
        except QueryFailed as err:
            final, error = "FAILED", err
        except Exception as err:  # never let a bug hang a poller
            log.exception("query %s crashed", execution.id)
            final, error = "FAILED", QueryFailed("GENERIC_INTERNAL_ERROR", str(err) or type(err).__name__)
        with execution.lock:
            if execution.state == "CANCELLED":
                execution.done.set()
                return
            if ctx.cancelled.is_set():
                final, error = "CANCELLED", QueryFailed("QUERY_CANCELLED", "Query cancelled by user")
            completed = time.time()
            # on disk before any poller can see the final state, so a restart cannot lose it
            self.history.save(
                {**execution.record(), "state": final, "error": history.error_record(error), "completed": completed}
            )
            execution.state = final
            execution.error = error
            execution.completed = completed
        execution.done.set()

    def _write_output(self, execution: Execution, result: Result, rows: results.Rows) -> None:
        assert execution.output_location
        bucket, key = split_s3_url(execution.output_location)
        try:
            self.catalog.put_object(bucket, key, results.output_file(result, rows, execution.statement_type))
        except Exception as err:
            raise QueryFailed(
                "RESULT_WRITE_FAILED", f"Unable to write query results to {execution.output_location}: {err}"
            ) from err

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
            execution.error = QueryFailed("QUERY_CANCELLED", "Query cancelled by user")
            self.history.save(execution.record())
        execution.ctx.cancelled.set()
        con = execution.ctx.connection
        if con is not None:
            with contextlib.suppress(Exception):
                con.interrupt()
        execution.done.set()

    def runtime_statistics(self, qid: str | None) -> dict[str, Any]:
        """GetQueryRuntimeStatistics: timeline and row counts (no per-stage plan locally)."""
        execution = self.get(qid)
        stats = execution.describe()["Statistics"]
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
        out_rows = len(self.results.rows(execution.id))
        return {
            "Timeline": timeline,
            "Rows": {"InputRows": 0, "InputBytes": execution.scanned, "OutputBytes": 0, "OutputRows": out_rows},
        }

    def list_ids(self, workgroup: str | None) -> list[str]:
        wg = workgroup or "primary"
        items = [e for e in self.executions.values() if e.workgroup == wg]
        items.sort(key=lambda e: e.submitted, reverse=True)
        return [e.id for e in items]

    def results_page(self, qid: str | None, max_results: int | None, next_token: str | None) -> dict[str, Any]:
        """GetQueryResults: a page of a succeeded query's rows."""
        execution = self.get(qid)
        if execution.state in ("QUEUED", "RUNNING"):
            raise InvalidRequestException(f"Query has not yet finished. Current state: {execution.state}")
        if execution.state != "SUCCEEDED":
            reason = execution.error.reason if execution.error else ""
            raise InvalidRequestException(
                f"Query did not finish successfully. Final query state: {execution.state}"
                + (f"\n{reason}" if reason else "")
            )
        assert execution.result is not None
        return results.page(
            execution.id,
            execution.result,
            self.results.rows(execution.id),
            execution.statement_type,
            max_results,
            next_token,
        )


class AthenaServices:
    """One :class:`AthenaService` per account/region, created on first use (moto's BackendDict role)."""

    def __init__(self) -> None:
        self.sync_wait = 0.0
        self.cache_dir: str | None = None
        self.history_dir: str | None = None
        self._services: dict[tuple[str, str], AthenaService] = {}
        self._lock = threading.Lock()

    def configure(self, sync_wait: float, cache_dir: str | None, history_dir: str | None = None) -> None:
        """How services created from now on wait for queries, cache objects and keep their history."""
        self.sync_wait = sync_wait
        self.cache_dir = cache_dir
        self.history_dir = history_dir

    def get(self, account_id: str, region: str) -> AthenaService:
        key = (account_id, region)
        with self._lock:
            service = self._services.get(key)
            if service is None:
                queries = os.path.join(self.history_dir, account_id, region) if self.history_dir else None
                service = AthenaService(account_id, region, self.sync_wait, self.cache_dir, queries)
                self._services[key] = service
            return service


athena_services = AthenaServices()
