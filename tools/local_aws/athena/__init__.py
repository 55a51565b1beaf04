"""Athena that really runs SQL: Trino SQL -> sqlglot -> DuckDB over Glue-registered Parquet in S3.

``install(options)`` is called once by the endpoint at start-up; it patches moto's Athena
responses in-process (see ``responses.py``) and registers workgroup persistence.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["install"]


def install(options: Any) -> None:
    """Patch moto's Athena for this process, configured from ``EndpointOptions``."""
    from . import responses

    state_dir = getattr(options, "state_dir", None)
    cache_dir = os.path.join(str(state_dir), "athena-cache") if state_dir else None
    responses._settings["sync_wait"] = float(getattr(options, "sync_wait", 0.0) or 0.0)
    responses._settings["cache_dir"] = cache_dir
    responses.patch_responses()

    account = getattr(options, "account_id", "123456789012")
    region = getattr(options, "region", "us-east-1")
    try:
        from local_aws import persistence
    except ImportError:  # endpoint without persistence support
        return

    def dump() -> dict[str, Any]:
        return {f"{acct}/{reg}": svc.dump_workgroups() for (acct, reg), svc in list(responses._services.items())} or {
            f"{account}/{region}": responses.service_for(account, region).dump_workgroups()
        }

    def load(data: dict[str, Any]) -> None:
        for key, groups in (data or {}).items():
            acct, _, reg = key.partition("/")
            responses.service_for(acct, reg).load_workgroups(groups)

    persistence.register_state_hook("athena", dump=dump, load=load)
    responses._settings["on_workgroup_change"] = lambda: persistence.mark_dirty("athena")
