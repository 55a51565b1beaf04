"""Glue: moto's Glue with a crawler that really crawls S3 Parquet, UpdateCrawler, GetCrawlerMetrics,
AWS-shaped errors, and a catalog that survives restarts.

Layout, as for every service here: ``models`` (crawlers and crawls: state and behaviour),
``patches`` (on moto's GlueBackend), ``responses`` (the actions moto lacks), ``persist`` (the
catalog as JSON); the crawl itself is ``crawler`` over ``layout`` (what is in S3), ``schema`` and
``crawl_types``. :func:`install` wires them in.
"""

from __future__ import annotations

from typing import Any

from local_aws import hooks, persistence
from local_aws.glue import patches, persist, responses
from local_aws.glue.models import STATE_NAME, LocalCrawler, stop_all_crawls
from local_aws.options import EndpointOptions

_READ_PREFIXES = ("Get", "List", "Search", "BatchGet", "Query")


def install(options: EndpointOptions) -> None:
    """Patch moto's Glue; persist the catalog after every Glue write and on shutdown."""
    LocalCrawler.sync_wait = options.sync_wait
    patches.install()
    responses.install()

    def after_write(environ: dict[str, Any]) -> None:
        action = hooks.action_of(environ, "AWSGlue.")
        if action is not None and not action.startswith(_READ_PREFIXES):
            persistence.mark_dirty(STATE_NAME)

    hooks.register_after_write(after_write)
    persistence.register_state_hook(
        STATE_NAME,
        dump=lambda: persist.dump(options.account_id),
        load=lambda data: persist.load(options.account_id, data),
    )
    hooks.register_shutdown(stop_all_crawls)
