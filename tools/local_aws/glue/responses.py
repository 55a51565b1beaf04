"""Thin response layer for the Glue actions moto lacks (UpdateCrawler, GetCrawlerMetrics).

moto dispatches ``AWSGlue.UpdateCrawler`` to ``GlueResponse.update_crawler``; adding methods of
the same snake_case name to the class is all it takes.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.glue.responses import GlueResponse

from local_aws.glue.models import get_local_crawler


def update_crawler(self: GlueResponse) -> ActionResult:
    params: dict[str, Any] = self.parameters
    crawler = get_local_crawler(self.glue_backend, params.get("Name", ""))
    crawler.update(params)
    return EmptyResult()


def get_crawler_metrics(self: GlueResponse) -> ActionResult:
    params: dict[str, Any] = self.parameters
    names = params.get("CrawlerNameList")
    crawlers = self.glue_backend.crawlers
    selected = list(crawlers.values()) if names is None else [crawlers[n] for n in names if n in crawlers]
    max_results = int(params.get("MaxResults") or 1000)
    start = int(params.get("NextToken") or 0)
    page = selected[start : start + max_results]
    result: dict[str, Any] = {"CrawlerMetricsList": [c.metrics() for c in page]}
    if start + max_results < len(selected):
        result["NextToken"] = str(start + max_results)
    return ActionResult(result)


def install() -> None:
    GlueResponse.update_crawler = update_crawler  # type: ignore[attr-defined]
    GlueResponse.get_crawler_metrics = get_crawler_metrics  # type: ignore[attr-defined]
