"""One query execution as Athena describes it: its state machine fields, the GetQueryExecution document
(``describe``) and the record the query history keeps (``record``/``restore``)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local_aws.athena import history
from local_aws.athena.engine.context import QueryContext, Result
from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.parse import strip_comments


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
    ctx: QueryContext
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    state: str = "QUEUED"
    error: QueryFailed | None = None
    result: Result | None = None
    scanned: int = 0
    token: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self) -> dict[str, Any]:
        """What the query history keeps of this execution (``history``)."""
        return {
            "id": self.id,
            "query": self.query,
            "statement_type": self.statement_type,
            "context": self.context,
            "workgroup": self.workgroup,
            "output_location": self.output_location,
            "result_configuration": self.result_configuration,
            "parameters": self.parameters,
            "token": self.token,
            "submitted": self.submitted,
            "started": self.started,
            "completed": self.completed,
            "state": self.state,
            "error": history.error_record(self.error),
            "scanned": self.scanned,
            "result": history.result_record(self.result) if self.result is not None else None,
        }

    @classmethod
    def restore(cls, record: dict[str, Any]) -> Execution:
        """An execution from the query history (terminal: it ran before a restart)."""
        execution = cls(
            id=record["id"],
            query=record["query"],
            statement_type=record["statement_type"],
            context=dict(record.get("context") or {}),
            workgroup=record.get("workgroup") or "primary",
            output_location=record.get("output_location"),
            result_configuration=dict(record.get("result_configuration") or {}),
            parameters=record.get("parameters"),
            ctx=QueryContext(query_id=record["id"], database=None, output_location=None),
            submitted=float(record["submitted"]),
            started=record.get("started"),
            completed=record.get("completed"),
            state=record["state"],
            error=history.error_from(record.get("error")),
            result=history.result_from(record["result"]) if record.get("result") else None,
            scanned=int(record.get("scanned") or 0),
            token=record.get("token"),
        )
        execution.done.set()
        return execution

    def substatement_type(self) -> str:
        body = strip_comments(self.query).upper().split()
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
