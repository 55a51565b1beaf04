"""Athena that really runs SQL: Trino SQL analyzed and typed as Trino does, then run on DuckDB over
Glue-registered Parquet in S3.

Layout, as for every service here: ``models`` (query executions and their state machine),
``responses`` (the API actions on moto's AthenaResponse), ``persist`` (workgroups as JSON),
``history`` (query executions and their results kept across restarts), ``results`` (the result file
and pages), ``rendering`` (values as Athena prints them); the engine (``engine/``) runs one statement
over ``catalog`` (Glue and S3), with the SQL layer in ``sql/`` (parse, analysis, the function
library, translation) and the failure vocabulary in ``errors``. :func:`install` wires them in.
"""

from __future__ import annotations

import os
from typing import Any

from local_aws import hooks, persistence
from local_aws.athena import persist, responses
from local_aws.athena.engine.database import DATABASE
from local_aws.athena.models import athena_services
from local_aws.options import EndpointOptions

_WORKGROUP_WRITES = ("CreateWorkGroup", "UpdateWorkGroup", "DeleteWorkGroup")


def install(options: EndpointOptions) -> None:
    """Patch moto's Athena; persist workgroups after every workgroup write and on shutdown."""
    cache_dir = os.path.join(options.state_dir, "athena-cache") if options.state_dir else None
    history_dir = os.path.join(options.state_dir, "athena-queries") if options.state_dir else None
    athena_services.configure(sync_wait=options.sync_wait, cache_dir=cache_dir, history_dir=history_dir)
    responses.install()
    DATABASE.connect().close()  # create the function library at start-up, not in the first query

    def after_write(environ: dict[str, Any]) -> None:
        if hooks.action_of(environ, "AmazonAthena.") in _WORKGROUP_WRITES:
            persistence.mark_dirty(persist.STATE_NAME)

    hooks.register_after_write(after_write)
    persistence.register_state_hook(
        persist.STATE_NAME, dump=lambda: persist.dump(options.account_id), load=persist.load
    )
