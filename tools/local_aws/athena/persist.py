"""Athena state that survives restarts: the workgroups (kept in moto's Athena backend) as JSON.

Query executions and their results are kept by ``history`` (one file per execution).
"""

from __future__ import annotations

from typing import Any

from moto.athena.models import AthenaBackend, athena_backends

STATE_NAME = "athena"  # the persistence hook holding the workgroups


def _dump_workgroups(backend: AthenaBackend) -> dict[str, Any]:
    return {
        name: {"description": wg.description, "configuration": wg.configuration, "state": wg.state}
        for name, wg in backend.work_groups.items()
    }


def _load_workgroups(backend: AthenaBackend, data: dict[str, Any]) -> None:
    for name, item in (data or {}).items():
        if name not in backend.work_groups:
            backend.create_work_group(name, dict(item.get("configuration") or {}), item.get("description"), [])
        wg = backend.work_groups[name]
        wg.configuration = dict(item.get("configuration") or {})
        wg.description = item.get("description")
        wg.state = item.get("state") or "ENABLED"


def dump(account_id: str) -> dict[str, Any]:
    """``{"<account>/<region>": {workgroup: {...}}}`` for every region the endpoint has served."""
    return {
        f"{account_id}/{region}": _dump_workgroups(backend)
        for region, backend in list(athena_backends[account_id].items())
    }


def load(data: dict[str, Any]) -> None:
    for key, groups in (data or {}).items():
        account_id, _, region = key.partition("/")
        _load_workgroups(athena_backends[account_id][region], groups)
