"""Glue extensions: a crawler that really crawls S3 Parquet, UpdateCrawler, GetCrawlerMetrics,
AWS-shaped errors, and a catalog that survives restarts.

``install(options)`` patches moto's GlueBackend/GlueResponse in-process (no fork of moto).
"""

from __future__ import annotations

import logging
from typing import Any

from moto.glue.models import GlueBackend, glue_backends

from local_aws import hooks, persistence
from local_aws.glue import state
from local_aws.glue.models import LocalCrawler, get_local_crawler, parse_configuration, validate_policies
from local_aws.glue.responses import install_responses
from local_aws.glue.settings import CATALOG_LOCK
from local_aws.options import EndpointOptions

log = logging.getLogger(__name__)

_READ_PREFIXES = ("Get", "List", "Search", "BatchGet", "Query")
_options: EndpointOptions | None = None


def _all_backends() -> list[GlueBackend]:
    backends: list[GlueBackend] = []
    for account in list(glue_backends.keys()):
        for region in list(glue_backends[account].keys()):
            backends.append(glue_backends[account][region])
    return backends


def _create_crawler(self: GlueBackend, name: str, **kwargs: Any) -> None:
    from moto.glue.exceptions import CrawlerAlreadyExistsException

    if name in self.crawlers:
        raise CrawlerAlreadyExistsException()
    validate_policies(kwargs.get("schema_change_policy"), kwargs.get("recrawl_policy"))
    parse_configuration(kwargs.get("configuration"))
    self.crawlers[name] = LocalCrawler(name=name, backend=self, **kwargs)


def _get_crawler(self: GlueBackend, name: str) -> LocalCrawler:
    return get_local_crawler(self, name)


def _start_crawler(self: GlueBackend, name: str) -> None:
    get_local_crawler(self, name).start_crawler()


def _stop_crawler(self: GlueBackend, name: str) -> None:
    get_local_crawler(self, name).stop_crawler()


def _delete_crawler(self: GlueBackend, name: str) -> None:
    from moto.glue.exceptions import CrawlerRunningException

    crawler = get_local_crawler(self, name)
    if crawler.status != "READY":
        raise CrawlerRunningException(f"Crawler with name {name} is running and cannot be deleted")
    del self.crawlers[name]


_original_list_crawls = GlueBackend.list_crawls


def _list_crawls(self: GlueBackend, crawler_name: str, filters: Any, **kwargs: Any) -> Any:
    get_local_crawler(self, crawler_name)
    return _original_list_crawls(self, crawler_name, filters, **kwargs)


def _after_write(environ: dict[str, Any]) -> None:
    target = hooks.amz_target(environ)
    if target.startswith("AWSGlue."):
        action = target.split(".", 1)[1]
        if not action.startswith(_READ_PREFIXES):
            persistence.mark_dirty("glue")


def _dump() -> dict[str, Any]:
    """Every region of the endpoint's account that holds any catalog object or crawler."""
    assert _options is not None
    regions = {}
    for region in list(glue_backends[_options.account_id].keys()):
        backend = glue_backends[_options.account_id][region]
        if backend.databases or backend.crawlers:
            with CATALOG_LOCK:  # a consistent snapshot, never half a crawl
                regions[region] = state.dump_backend(backend)
    return {"format": 1, "regions": regions}


def _load(data: dict[str, Any]) -> None:
    assert _options is not None
    for region, region_data in (data.get("regions") or {}).items():
        state.load_backend(glue_backends[_options.account_id][region], region_data)


_CATALOG_WRITES = (
    "create_database",
    "update_database",
    "delete_database",
    "create_table",
    "update_table",
    "delete_table",
    "delete_table_version",
    "batch_delete_table",
    "create_partition",
    "update_partition",
    "delete_partition",
    "batch_create_partition",
    "batch_update_partition",
    "batch_delete_partition",
)


def _locked(method: Any) -> Any:
    def wrapper(self: GlueBackend, *args: Any, **kwargs: Any) -> Any:
        with CATALOG_LOCK:
            return method(self, *args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def install(options: EndpointOptions) -> None:
    """Patch moto's Glue; register persistence and the after-write hook."""
    global _options
    _options = options
    LocalCrawler.sync_wait = options.sync_wait
    GlueBackend.create_crawler = _create_crawler  # type: ignore[method-assign,assignment]
    GlueBackend.get_crawler = _get_crawler  # type: ignore[method-assign,assignment]
    GlueBackend.start_crawler = _start_crawler  # type: ignore[method-assign]
    GlueBackend.stop_crawler = _stop_crawler  # type: ignore[method-assign]
    GlueBackend.delete_crawler = _delete_crawler  # type: ignore[method-assign]
    GlueBackend.list_crawls = _list_crawls  # type: ignore[method-assign,assignment]
    for name in _CATALOG_WRITES:
        setattr(GlueBackend, name, _locked(getattr(GlueBackend, name)))
    install_responses()
    hooks.register_after_write(_after_write)
    persistence.register_state_hook("glue", dump=_dump, load=_load)


def shutdown(timeout: float = 10.0) -> None:
    """Cancel running crawls and wait for their threads, so saved state is never mid-crawl."""
    crawlers = [c for b in _all_backends() for c in list(b.crawlers.values()) if isinstance(c, LocalCrawler)]
    for crawler in crawlers:
        crawler.cancel()
    for crawler in crawlers:
        if not crawler.wait_idle(timeout):
            log.warning("crawler %s did not stop within %ss", crawler.name, timeout)
