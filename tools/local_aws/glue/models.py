"""Crawler state machine: READY -> RUNNING -> (STOPPING) -> READY, a crawl per background thread.

Why replace moto's FakeCrawler: moto only advances a crawl when ListCrawls is called and never
touches the catalog. ``LocalCrawler`` subclasses it (so moto's list/batch/tag code keeps
working) and runs a real :class:`~local_aws.glue.crawler.CrawlRun` on a thread.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import statistics
import threading
import time
import uuid
from typing import Any

from moto.core.utils import utcnow
from moto.glue.exceptions import (
    CrawlerNotRunningException,
    CrawlerRunningException,
    EntityNotFoundException,
    InvalidInputException,
)
from moto.glue.models import FakeCrawler, GlueBackend, glue_backends

from local_aws import persistence
from local_aws.glue.crawl_types import CrawlCancelled, CrawlOutcome, CrawlSettings
from local_aws.glue.crawler import CrawlRun
from local_aws.s3.models import s3_backend

log = logging.getLogger(__name__)

STATE_NAME = "glue"  # the persistence hook holding the catalog and the crawlers

DEFAULT_SCHEMA_CHANGE_POLICY = {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DEPRECATE_IN_DATABASE"}
DEFAULT_RECRAWL_POLICY = {"RecrawlBehavior": "CRAWL_EVERYTHING"}
DEFAULT_LINEAGE = {"CrawlerLineageSettings": "DISABLE"}
LAST_CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "FAILED": "FAILED", "STOPPED": "CANCELLED"}
MAX_HISTORY = 50


def crawler_not_found(name: str) -> EntityNotFoundException:
    """AWS's exact wording for an unknown crawler."""
    return EntityNotFoundException(f"Crawler entry with name {name} does not exist")


def validate_policies(schema_change_policy: dict[str, Any] | None, recrawl_policy: dict[str, Any] | None) -> None:
    """AWS rejects incremental crawls whose schema change policy would touch existing tables."""
    recrawl = (recrawl_policy or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING")
    if recrawl not in ("CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY", "CRAWL_EVENT_MODE"):
        raise InvalidInputException("CreateCrawler", f"Invalid RecrawlBehavior {recrawl}")
    policy = {**DEFAULT_SCHEMA_CHANGE_POLICY, **(schema_change_policy or {})}
    if policy["UpdateBehavior"] not in ("LOG", "UPDATE_IN_DATABASE"):
        raise InvalidInputException("CreateCrawler", f"Invalid UpdateBehavior {policy['UpdateBehavior']}")
    if policy["DeleteBehavior"] not in ("LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE"):
        raise InvalidInputException("CreateCrawler", f"Invalid DeleteBehavior {policy['DeleteBehavior']}")
    if recrawl == "CRAWL_NEW_FOLDERS_ONLY" and (policy["UpdateBehavior"], policy["DeleteBehavior"]) != ("LOG", "LOG"):
        raise InvalidInputException(
            "CreateCrawler",
            "The SchemaChangePolicy for Crawl New Folders Only Amazon S3 target can have only LOG "
            "DeleteBehavior value and LOG UpdateBehavior value.",
        )


def parse_configuration(configuration: str | None) -> dict[str, Any]:
    """The crawler's Configuration JSON; invalid JSON is an InvalidInputException, as on AWS."""
    if not configuration:
        return {}
    try:
        value = json.loads(configuration)
    except ValueError as exc:
        raise InvalidInputException("CreateCrawler", f"Crawler configuration not valid: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInputException("CreateCrawler", "Crawler configuration must be a JSON object")
    return value


class LocalCrawl:
    """One crawl (an entry of ListCrawls); ``status`` uses ListCrawls' vocabulary."""

    def __init__(self, crawler_name: str, crawl_id: str | None = None) -> None:
        self.crawl_id = crawl_id or str(uuid.uuid4())
        self.status = "RUNNING"  # RUNNING | COMPLETED | FAILED | STOPPED
        self.start_time: dt.datetime = utcnow()
        self.end_time: dt.datetime | None = None
        self.error_message: str | None = None
        self.summary: str | None = None
        self.log_group = "/aws-glue/crawlers"
        self.log_stream = crawler_name
        self.message_prefix = self.crawl_id
        self.dpu_hour = 0.0
        self.outcome = CrawlOutcome()
        self.done = threading.Event()

    def advance(self) -> None:
        """moto's ListCrawls calls this to fake progress; real crawls advance on their own."""

    @property
    def runtime_seconds(self) -> float:
        end = self.end_time or utcnow()
        return max(0.0, (end - self.start_time).total_seconds())

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "CrawlId": self.crawl_id,
            "State": self.status,
            "StartTime": self.start_time,
            "LogGroup": self.log_group,
            "LogStream": self.log_stream,
            "MessagePrefix": self.message_prefix,
            "DPUHour": self.dpu_hour,
        }
        if self.end_time:
            data["EndTime"] = self.end_time
        if self.summary:
            data["Summary"] = self.summary
        if self.error_message:
            data["ErrorMessage"] = self.error_message
        return data

    def last_crawl(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "Status": LAST_CRAWL_STATUS.get(self.status, "SUCCEEDED"),
            "LogGroup": self.log_group,
            "LogStream": self.log_stream,
            "MessagePrefix": self.message_prefix,
            "StartTime": self.start_time,
        }
        if self.error_message:
            data["ErrorMessage"] = self.error_message
        return data

    def dump(self) -> dict[str, Any]:
        return {
            "crawl_id": self.crawl_id,
            "status": self.status,
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "error_message": self.error_message,
            "summary": self.summary,
            "tables": [self.outcome.tables_created, self.outcome.tables_updated, self.outcome.tables_deleted],
        }

    @classmethod
    def load(cls, crawler_name: str, data: dict[str, Any]) -> LocalCrawl:
        crawl = cls(crawler_name, data["crawl_id"])
        crawl.status = data["status"] if data["status"] != "RUNNING" else "STOPPED"
        crawl.start_time = dt.datetime.fromisoformat(data["start_time"])
        crawl.end_time = dt.datetime.fromisoformat(data["end_time"]) if data.get("end_time") else crawl.start_time
        crawl.error_message = data.get("error_message")
        crawl.summary = data.get("summary")
        created, updated, deleted = data.get("tables", [0, 0, 0])
        crawl.outcome = CrawlOutcome(tables_created=created, tables_updated=updated, tables_deleted=deleted)
        crawl.done.set()
        return crawl


class LocalCrawler(FakeCrawler):
    """A crawler whose StartCrawler really crawls S3 into the catalog."""

    sync_wait: float = 0.0
    object_delay: float = float(os.environ.get("LOCAL_AWS_CRAWL_OBJECT_DELAY", "0") or 0)

    def __init__(self, **kwargs: Any) -> None:
        kwargs["schema_change_policy"] = {**DEFAULT_SCHEMA_CHANGE_POLICY, **(kwargs.get("schema_change_policy") or {})}
        kwargs["recrawl_policy"] = kwargs.get("recrawl_policy") or dict(DEFAULT_RECRAWL_POLICY)
        kwargs["lineage_configuration"] = kwargs.get("lineage_configuration") or dict(DEFAULT_LINEAGE)
        kwargs["table_prefix"] = kwargs.get("table_prefix") or ""
        kwargs["classifiers"] = kwargs.get("classifiers") or []
        super().__init__(**kwargs)
        self.crawls: list[LocalCrawl] = []  # type: ignore[assignment]
        self._state = "READY"
        self._lock = threading.RLock()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    # -- moto surface ---------------------------------------------------------------------------

    @property
    def status(self) -> str:  # type: ignore[override]
        return self._state

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["State"] = self._state
        running = self._state != "READY" and self.crawls
        data["CrawlElapsedTime"] = int(self.crawls[-1].runtime_seconds * 1000) if running else 0
        finished = [c for c in self.crawls if c.status != "RUNNING"]
        if finished:
            data["LastCrawl"] = finished[-1].last_crawl()
        else:
            data.pop("LastCrawl", None)
        return {k: v for k, v in data.items() if v is not None}

    def start_crawler(self) -> None:
        with self._lock:
            if self._state != "READY":
                raise CrawlerRunningException(f"Crawler with name {self.name} has already started")
            parse_configuration(self.configuration)  # fail fast on a broken configuration
            crawl = LocalCrawl(self.name)
            self.crawls.append(crawl)
            del self.crawls[:-MAX_HISTORY]
            self._state = "RUNNING"
            self._cancel = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(crawl, self._settings(), self._cancel), name=f"crawler-{self.name}", daemon=True
            )
            self._thread.start()
        if self.sync_wait > 0:
            crawl.done.wait(self.sync_wait)

    def stop_crawler(self) -> None:
        with self._lock:
            if self._state != "RUNNING":
                raise CrawlerNotRunningException(f"Crawler with name {self.name} isn't running")
            self._state = "STOPPING"
            self._cancel.set()

    def update(self, params: dict[str, Any]) -> None:
        """UpdateCrawler: only the given fields change; Version and LastUpdated move on."""
        with self._lock:
            if self._state != "READY":
                raise CrawlerRunningException(f"Crawler with name {self.name} has already started")
            scp = params.get("SchemaChangePolicy", self.schema_change_policy)
            rp = params.get("RecrawlPolicy", self.recrawl_policy)
            validate_policies(scp, rp)
            if "Configuration" in params:
                parse_configuration(params["Configuration"])
            mapping = {
                "Role": "role",
                "DatabaseName": "database_name",
                "Description": "description",
                "Targets": "targets",
                "Classifiers": "classifiers",
                "TablePrefix": "table_prefix",
                "LineageConfiguration": "lineage_configuration",
                "Configuration": "configuration",
                "CrawlerSecurityConfiguration": "crawler_security_configuration",
            }
            for api_name, attr in mapping.items():
                if api_name in params:
                    setattr(self, attr, params[api_name])
            if "SchemaChangePolicy" in params:
                self.schema_change_policy = {**DEFAULT_SCHEMA_CHANGE_POLICY, **params["SchemaChangePolicy"]}
            if "RecrawlPolicy" in params:
                self.recrawl_policy = params["RecrawlPolicy"] or dict(DEFAULT_RECRAWL_POLICY)
            if "Schedule" in params:
                self.schedule = params["Schedule"] or None
            self.version += 1
            self.last_updated = utcnow()

    def wait_idle(self, timeout: float) -> bool:
        """Wait for a running crawl to end (used at shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def cancel(self) -> None:
        with self._lock:
            if self._state == "RUNNING":
                self._state = "STOPPING"
                self._cancel.set()

    # -- metrics --------------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        finished = [c for c in self.crawls if c.status != "RUNNING"]
        runtimes = [c.runtime_seconds for c in finished]
        last = finished[-1] if finished else None
        running = self._state != "READY" and self.crawls and self.crawls[-1].status == "RUNNING"
        median = statistics.median(runtimes) if runtimes else 0.0
        time_left = 0.0
        if running:
            time_left = max(0.0, median - self.crawls[-1].runtime_seconds)
        return {
            "CrawlerName": self.name,
            "TimeLeftSeconds": round(time_left, 3),
            "StillEstimating": bool(running and not runtimes),
            "LastRuntimeSeconds": round(runtimes[-1], 3) if runtimes else 0.0,
            "MedianRuntimeSeconds": round(median, 3),
            "TablesCreated": last.outcome.tables_created if last else 0,
            "TablesUpdated": last.outcome.tables_updated if last else 0,
            "TablesDeleted": last.outcome.tables_deleted if last else 0,
        }

    # -- the crawl thread -----------------------------------------------------------------------

    def _settings(self) -> CrawlSettings:
        scp = self.schema_change_policy or {}
        return CrawlSettings(
            name=self.name,
            database=self.database_name,
            targets=json.loads(json.dumps(self.targets or {})),
            table_prefix=self.table_prefix or "",
            update_behavior=scp.get("UpdateBehavior", "UPDATE_IN_DATABASE"),
            delete_behavior=scp.get("DeleteBehavior", "DEPRECATE_IN_DATABASE"),
            recrawl_behavior=(self.recrawl_policy or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING"),
            configuration=parse_configuration(self.configuration),
            role=self.role or "",
        )

    def _run(self, crawl: LocalCrawl, settings: CrawlSettings, cancel: threading.Event) -> None:
        started = time.monotonic()
        run = CrawlRun(settings, self.backend, s3_backend(self.backend.account_id), cancel, self.object_delay)
        try:
            outcome = run.run()
            crawl.outcome = outcome
            if cancel.is_set():
                raise CrawlCancelled()
            if outcome.errors:
                crawl.status = "FAILED"
                crawl.error_message = _error_message(outcome.errors)
            else:
                crawl.status = "COMPLETED"
        except CrawlCancelled:
            crawl.outcome = run.outcome
            crawl.status = "STOPPED"
            crawl.error_message = None
            log.info("crawler %s: crawl %s cancelled", self.name, crawl.crawl_id)
        except Exception as exc:  # never leave a crawler stuck in RUNNING
            log.exception("crawler %s: crawl %s failed", self.name, crawl.crawl_id)
            crawl.outcome = run.outcome
            crawl.status = "FAILED"
            crawl.error_message = f"Internal error: {type(exc).__name__}: {exc}"
        with self._lock:
            self._state = "STOPPING"
            crawl.summary = crawl.outcome.summary()
            crawl.end_time = utcnow()
            crawl.dpu_hour = round((time.monotonic() - started) / 3600, 6)
            self.crawl_elapsed_time = 0
            persistence.mark_dirty(STATE_NAME)
            self._state = "READY"
        crawl.done.set()


def _error_message(errors: list[str]) -> str:
    head = "; ".join(errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"Crawl failed for {len(errors)} object(s)/path(s): {head}{more}"


def get_local_crawler(backend: GlueBackend, name: str) -> LocalCrawler:
    crawler = backend.crawlers.get(name)
    if crawler is None:
        raise crawler_not_found(name)
    return crawler  # type: ignore[return-value]


def all_crawlers() -> list[LocalCrawler]:
    """Every crawler of every account and region this process has served."""
    return [
        crawler
        for account in list(glue_backends.values())
        for backend in list(account.values())
        for crawler in list(backend.crawlers.values())
        if isinstance(crawler, LocalCrawler)
    ]


def stop_all_crawls(timeout: float = 10.0) -> None:
    """Cancel running crawls and wait for their threads, so saved state is never mid-crawl."""
    crawlers = all_crawlers()
    for crawler in crawlers:
        crawler.cancel()
    for crawler in crawlers:
        if not crawler.wait_idle(timeout):
            log.warning("crawler %s did not stop within %ss", crawler.name, timeout)
