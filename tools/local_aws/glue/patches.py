"""Patches on moto's ``GlueBackend``: crawlers that really crawl, AWS's crawler errors, and catalog
writes serialised with the crawls.

moto's crawler methods are replaced by ones that keep :class:`~local_aws.glue.models.LocalCrawler`
objects; moto's catalog writes are wrapped in :data:`~local_aws.glue.crawl_types.CATALOG_LOCK`,
because a crawl swaps whole dicts in and a CreatePartition landing mid-swap would be lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.glue.exceptions import CrawlerAlreadyExistsException, CrawlerRunningException
from moto.glue.models import GlueBackend

from local_aws.glue.crawl_types import CATALOG_LOCK
from local_aws.glue.models import LocalCrawler, get_local_crawler, parse_configuration, validate_policies

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


def _create_crawler(self: GlueBackend, name: str, **kwargs: Any) -> None:
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
    crawler = get_local_crawler(self, name)
    if crawler.status != "READY":
        raise CrawlerRunningException(f"Crawler with name {name} is running and cannot be deleted")
    del self.crawlers[name]


def _list_crawls_of_known_crawler(original: Callable[..., Any]) -> Callable[..., Any]:
    """ListCrawls of an unknown crawler is AWS's EntityNotFoundException, not an empty list."""

    def list_crawls(self: GlueBackend, crawler_name: str, filters: Any, **kwargs: Any) -> Any:
        get_local_crawler(self, crawler_name)
        return original(self, crawler_name, filters, **kwargs)

    return list_crawls


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: GlueBackend, *args: Any, **kwargs: Any) -> Any:
        with CATALOG_LOCK:
            return method(self, *args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def install() -> None:
    GlueBackend.create_crawler = _create_crawler  # type: ignore[method-assign,assignment]
    GlueBackend.get_crawler = _get_crawler  # type: ignore[method-assign,assignment]
    GlueBackend.start_crawler = _start_crawler  # type: ignore[method-assign]
    GlueBackend.stop_crawler = _stop_crawler  # type: ignore[method-assign]
    GlueBackend.delete_crawler = _delete_crawler  # type: ignore[method-assign]
    GlueBackend.list_crawls = _list_crawls_of_known_crawler(GlueBackend.list_crawls)  # type: ignore[method-assign]
    for name in _CATALOG_WRITES:
        setattr(GlueBackend, name, _locked(getattr(GlueBackend, name)))
