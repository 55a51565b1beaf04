"""Athena API actions patched onto moto's ``AthenaResponse`` (moto dispatches Action -> snake_case method).

Query actions go to our :class:`~local_aws.athena.models.AthenaService`; catalog actions (databases, tables,
data catalogs) read Glue, because Athena's catalog *is* Glue (moto keeps a separate list); the
workgroup actions moto lacks or gets wrong (UpdateWorkGroup, GetWorkGroup of a missing name) are
filled in. Every action answers with AWS error codes, never a 500.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from moto.athena.responses import AthenaResponse
from werkzeug.exceptions import HTTPException

from local_aws.athena.catalog import TableInfo
from local_aws.athena.errors import InvalidRequestException, MetadataException
from local_aws.athena.models import AthenaService, athena_services

log = logging.getLogger(__name__)

AWS_CATALOG = "awsdatacatalog"


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    return str(value)


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, default=_json_default)


def _guard(fn: Callable[[AthenaResponse], str]) -> Callable[[AthenaResponse], str]:
    """AWS errors pass through; anything unexpected becomes a 400 InvalidRequestException, not a 500."""

    @functools.wraps(fn)
    def wrapper(self: AthenaResponse) -> str:
        try:
            return fn(self)
        except HTTPException:
            raise
        except Exception as err:
            log.exception("Athena %s failed", fn.__name__)
            raise InvalidRequestException(f"{type(err).__name__}: {err}") from err

    return wrapper


def _svc(self: AthenaResponse) -> AthenaService:
    return athena_services.get(self.current_account, self.region)


def _check_catalog(name: str | None) -> None:
    if name and name.lower() != AWS_CATALOG:
        raise MetadataException(f"Catalog {name} does not exist")


# ------------------------------------------------------------------------------ query executions


@_guard
def start_query_execution(self: AthenaResponse) -> str:
    qid = _svc(self).start(
        query=self._get_param("QueryString"),
        context=self._get_param("QueryExecutionContext"),
        result_conf=self._get_param("ResultConfiguration"),
        workgroup=self._get_param("WorkGroup"),
        parameters=self._get_param("ExecutionParameters"),
        token=self._get_param("ClientRequestToken"),
    )
    return _dump({"QueryExecutionId": qid})


@_guard
def get_query_execution(self: AthenaResponse) -> str:
    execution = _svc(self).get(self._get_param("QueryExecutionId"))
    return _dump({"QueryExecution": execution.describe()})


@_guard
def batch_get_query_execution(self: AthenaResponse) -> str:
    svc = _svc(self)
    found, missing = [], []
    for qid in self._get_param("QueryExecutionIds") or []:
        execution = svc.executions.get(qid)
        if execution is None:
            missing.append({"QueryExecutionId": qid, "ErrorCode": "INVALID_INPUT", "ErrorMessage": "not found"})
        else:
            found.append(execution.describe())
    return _dump({"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing})


@_guard
def list_query_executions(self: AthenaResponse) -> str:
    ids = _svc(self).list_ids(self._get_param("WorkGroup"))
    limit = int(self._get_param("MaxResults") or 50)
    start = int(self._get_param("NextToken") or 0)
    body: dict[str, Any] = {"QueryExecutionIds": ids[start : start + limit]}
    if start + limit < len(ids):
        body["NextToken"] = str(start + limit)
    return _dump(body)


@_guard
def get_query_results(self: AthenaResponse) -> str:
    return _dump(
        _svc(self).results_page(
            self._get_param("QueryExecutionId"), self._get_param("MaxResults"), self._get_param("NextToken")
        )
    )


@_guard
def stop_query_execution(self: AthenaResponse) -> str:
    _svc(self).stop(self._get_param("QueryExecutionId"))
    return "{}"


@_guard
def get_query_runtime_statistics(self: AthenaResponse) -> str:
    stats = _svc(self).runtime_statistics(self._get_param("QueryExecutionId"))
    return _dump({"QueryRuntimeStatistics": stats})


# ------------------------------------------------------------------------------ workgroups

_original_create_work_group = AthenaResponse.create_work_group
_original_delete_work_group = AthenaResponse.delete_work_group
_WG_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")


@_guard
def create_work_group(self: AthenaResponse) -> str:
    name = self._get_param("Name") or ""
    if not _WG_NAME.match(name):
        raise InvalidRequestException(f"Invalid WorkGroup name {name!r}")
    if name in _svc(self).moto.work_groups:
        raise InvalidRequestException(f"WorkGroup {name} is already created")
    result = _original_create_work_group(self)
    return result if isinstance(result, str) else "{}"


@_guard
def get_work_group(self: AthenaResponse) -> str:
    name = self._get_param("WorkGroup")
    wg = _svc(self).workgroup(name)
    body = {
        "Name": wg.name,
        "State": wg.state,
        "Configuration": wg.configuration,
        "Description": wg.description or "",
        "CreationTime": getattr(wg, "creation_time", None) or 0,
    }
    return _dump({"WorkGroup": body})


@_guard
def update_work_group(self: AthenaResponse) -> str:
    _svc(self).update_work_group(
        self._get_param("WorkGroup"),
        self._get_param("Description"),
        self._get_param("ConfigurationUpdates") or {},
        self._get_param("State"),
    )
    return "{}"


@_guard
def delete_work_group(self: AthenaResponse) -> str:
    name = self._get_param("WorkGroup")
    if name == "primary":
        raise InvalidRequestException("Cannot delete the primary workgroup")
    _svc(self).workgroup(name)
    return _original_delete_work_group(self)


# ------------------------------------------------------------------------------ catalog (Glue)


@_guard
def list_data_catalogs(self: AthenaResponse) -> str:
    items = [{"CatalogName": "AwsDataCatalog", "Type": "GLUE"}]
    items += [
        {"CatalogName": c.name, "Type": c.type}
        for c in _svc(self).moto.data_catalogs.values()
        if c.name.lower() != AWS_CATALOG
    ]
    return _dump({"DataCatalogsSummary": items})


@_guard
def get_data_catalog(self: AthenaResponse) -> str:
    name = self._get_param("Name") or ""
    if name.lower() == AWS_CATALOG:
        return _dump(
            {
                "DataCatalog": {
                    "Name": "AwsDataCatalog",
                    "Description": "AWS Glue Data Catalog",
                    "Type": "GLUE",
                    "Parameters": {"catalog-id": self.current_account},
                }
            }
        )
    found = _svc(self).moto.get_data_catalog(name)
    if not found:
        raise InvalidRequestException(f"DataCatalog {name} was not found")
    return _dump({"DataCatalog": found})


def _db_dict(db: Any) -> dict[str, Any]:
    params = dict(db.input.get("Parameters") or {})
    out: dict[str, Any] = {"Name": db.name, "Parameters": params}
    if db.input.get("Description"):
        out["Description"] = db.input["Description"]
    return out


@_guard
def list_databases(self: AthenaResponse) -> str:
    _check_catalog(self._get_param("CatalogName"))
    dbs = sorted(_svc(self).catalog.databases(), key=lambda d: d.name)
    limit = int(self._get_param("MaxResults") or 50)
    start = int(self._get_param("NextToken") or 0)
    body: dict[str, Any] = {"DatabaseList": [_db_dict(d) for d in dbs[start : start + limit]]}
    if start + limit < len(dbs):
        body["NextToken"] = str(start + limit)
    return _dump(body)


@_guard
def get_database(self: AthenaResponse) -> str:
    _check_catalog(self._get_param("CatalogName"))
    name = self._get_param("DatabaseName") or ""
    catalog = _svc(self).catalog
    stored = catalog.database_name(name)
    if stored is None:
        raise MetadataException(f"Database {name} not found.")
    return _dump({"Database": _db_dict(catalog.glue.databases[stored])})


def _table_metadata(info: TableInfo) -> dict[str, Any]:
    sd = info.raw.get("StorageDescriptor") or {}
    params = dict(info.parameters)
    if info.location:
        params["location"] = info.location
    if sd.get("InputFormat"):
        params["inputformat"] = sd["InputFormat"]
    if sd.get("OutputFormat"):
        params["outputformat"] = sd["OutputFormat"]
    serde = sd.get("SerdeInfo") or {}
    if serde.get("SerializationLibrary"):
        params["serde.serialization.lib"] = serde["SerializationLibrary"]
    for key, value in (serde.get("Parameters") or {}).items():
        params[f"serde.param.{key}"] = value

    def cols(items: list[Any]) -> list[dict[str, Any]]:
        out = []
        for c in items:
            entry = {"Name": c.name, "Type": c.type}
            if c.comment:
                entry["Comment"] = c.comment
            out.append(entry)
        return out

    body: dict[str, Any] = {
        "Name": info.name,
        "TableType": info.table_type,
        "Columns": cols(info.columns),
        "PartitionKeys": cols(info.partition_keys),
        "Parameters": params,
    }
    if info.create_time is not None:
        body["CreateTime"] = info.create_time
    return body


@_guard
def get_table_metadata(self: AthenaResponse) -> str:
    _check_catalog(self._get_param("CatalogName"))
    db = self._get_param("DatabaseName") or ""
    name = self._get_param("TableName") or ""
    catalog = _svc(self).catalog
    if catalog.database_name(db) is None:
        raise MetadataException(f"Database {db} not found.")
    info = catalog.get_table(db, name)
    if info is None:
        raise MetadataException(f"Table {name} not found.")
    return _dump({"TableMetadata": _table_metadata(info)})


@_guard
def list_table_metadata(self: AthenaResponse) -> str:
    _check_catalog(self._get_param("CatalogName"))
    db = self._get_param("DatabaseName") or ""
    catalog = _svc(self).catalog
    if catalog.database_name(db) is None:
        raise MetadataException(f"Database {db} not found.")
    names = sorted(catalog.table_names(db))
    expression = self._get_param("Expression")
    if expression:
        regex = re.compile("^" + expression.replace("*", ".*") + "$", re.IGNORECASE)
        names = [n for n in names if regex.match(n)]
    limit = int(self._get_param("MaxResults") or 50)
    start = int(self._get_param("NextToken") or 0)
    tables = [catalog.get_table(db, n) for n in names[start : start + limit]]
    body: dict[str, Any] = {"TableMetadataList": [_table_metadata(t) for t in tables if t is not None]}
    if start + limit < len(names):
        body["NextToken"] = str(start + limit)
    return _dump(body)


PATCHES: dict[str, Callable[[AthenaResponse], str]] = {
    fn.__name__: fn
    for fn in (
        start_query_execution,
        get_query_execution,
        batch_get_query_execution,
        list_query_executions,
        get_query_results,
        stop_query_execution,
        get_query_runtime_statistics,
        create_work_group,
        get_work_group,
        update_work_group,
        delete_work_group,
        list_data_catalogs,
        get_data_catalog,
        list_databases,
        get_database,
        get_table_metadata,
        list_table_metadata,
    )
}


def install() -> None:
    """Install the actions on moto's AthenaResponse class (idempotent)."""
    for name, fn in PATCHES.items():
        setattr(AthenaResponse, name, fn)
