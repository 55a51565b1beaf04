"""Athena's query history survives a restart of the endpoint (issue 11, item 4): a caller that stored a
QueryExecutionId before the restart gets the same execution and the same results after it, as from
Athena, which keeps query history for 45 days."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.local_aws.athena_helpers import build_lake, run
from tests.integration.local_aws.conftest import EndpointProcess


def _results(athena: Any, qid: str, page_size: int | None = None) -> list[dict[str, Any]]:
    """Every GetQueryResults page (without the per-request metadata)."""
    pages, kwargs = [], {"QueryExecutionId": qid, **({"MaxResults": page_size} if page_size else {})}
    while True:
        page = athena.get_query_results(**kwargs)
        page.pop("ResponseMetadata", None)
        pages.append(page)
        if not page.get("NextToken"):
            return pages
        kwargs["NextToken"] = page["NextToken"]


def _execution(athena: Any, qid: str) -> dict[str, Any]:
    return athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stop", "kill"])
def test_executions_and_results_survive_a_restart(
    fresh_endpoint: EndpointProcess, boto3_session_factory: Callable[[str], Any], sig: signal.Signals
) -> None:
    client = boto3_session_factory(fresh_endpoint.url)
    lake = build_lake(client, "history-lake", "history_db")
    athena = client("athena")
    context = {
        "QueryExecutionContext": {"Database": lake.database},
        "ClientRequestToken": "catalog-report-token-0001-2026-11-25",
    }
    select = run(
        athena,
        "SELECT dt, symbol, sum(size) AS volume FROM ticks GROUP BY dt, symbol ORDER BY 1, 2",
        lake.output,
        **context,
    )
    failed = run(athena, "SELECT nope FROM ticks", lake.output, QueryExecutionContext={"Database": lake.database})
    utility = run(athena, "SHOW TABLES", lake.output, QueryExecutionContext={"Database": lake.database})
    ids = [e["QueryExecutionId"] for e in (select, failed, utility)]
    assert [e["Status"]["State"] for e in (select, failed, utility)] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    before = {qid: _execution(athena, qid) for qid in ids}
    pages = {qid: _results(athena, qid, page_size=2) for qid in (ids[0], ids[2])}
    listed = athena.list_query_executions()["QueryExecutionIds"]

    fresh_endpoint.stop(sig)
    fresh_endpoint.start()

    athena = boto3_session_factory(fresh_endpoint.url)("athena")
    for qid in ids:
        assert _execution(athena, qid) == before[qid]
    for qid, expected in pages.items():
        assert _results(athena, qid, page_size=2) == expected
    assert athena.list_query_executions()["QueryExecutionIds"] == listed
    with pytest.raises(athena.exceptions.InvalidRequestException, match="did not finish successfully"):
        athena.get_query_results(QueryExecutionId=ids[1])
    # the same client token still names the same execution, as Athena's idempotent StartQueryExecution
    again = athena.start_query_execution(
        QueryString="SELECT dt, symbol, sum(size) AS volume FROM ticks GROUP BY dt, symbol ORDER BY 1, 2",
        ResultConfiguration={"OutputLocation": lake.output},
        **context,
    )
    assert again["QueryExecutionId"] == ids[0]
