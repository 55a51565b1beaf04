"""Property-based fuzzing of the local Athena's SQL front end (parser, analyzer, translator, DuckDB errors).

Invariant: whatever text a client sends, the endpoint process answers; every query ends SUCCEEDED, or
FAILED with a named user error (``NAME: ...`` of Athena's catalogue, ErrorCategory 2), within a bounded
time, and the process stays healthy. GENERIC_INTERNAL_ERROR (an unexpected exception in the endpoint)
fails the property. The queries run against a private endpoint process, so a native crash in DuckDB
shows as a dead process instead of taking the test runner down. Budget: about 30 s.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from local_aws.athena.errors import ERRORS
from local_aws.athena.sql.library import REGISTRY
from tests.integration.local_aws.athena_helpers import TERMINAL, Lake, build_lake
from tests.integration.local_aws.conformance.corpus import load_corpus

QUERY_TIMEOUT = 30.0
FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_NAMED = re.compile(r"^([A-Z][A-Z0-9_]+): ")
# Failures Athena reports without a NAME: prefix (the Hive metastore's DDL lines, service messages).
_UNNAMED_OK = ("FAILED: ", "Only one sql statement is allowed", "Query cancelled")


@pytest.fixture
def fuzz_target(
    endpoint_factory: Callable[..., Any], boto3_session_factory: Callable[[str], Any]
) -> tuple[Any, Lake, Any]:
    endpoint = endpoint_factory()
    client = boto3_session_factory(endpoint.url)
    lake = build_lake(client, "fuzz-lake", "fuzz_db")
    return client("athena"), lake, endpoint


def check(target: tuple[Any, Lake, Any], sql: str) -> None:
    """Put ``sql`` to the endpoint; assert the invariant."""
    athena, lake, endpoint = target
    try:
        qid = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": lake.database},
            ResultConfiguration={"OutputLocation": lake.output},
        )["QueryExecutionId"]
    except (athena.exceptions.InvalidRequestException, botocore.exceptions.ParamValidationError):
        return  # rejected at the API (empty or oversized text), as Athena does
    deadline = time.monotonic() + QUERY_TIMEOUT
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in TERMINAL:
            break
        assert time.monotonic() < deadline, f"query still {status['State']} after {QUERY_TIMEOUT}s: {sql!r}"
        time.sleep(0.01)
    assert endpoint.healthy(), f"the endpoint died on {sql!r}"
    if status["State"] == "SUCCEEDED":
        athena.get_query_results(QueryExecutionId=qid, MaxResults=10)
        return
    assert status["State"] == "FAILED", (sql, status)
    reason = status.get("StateChangeReason", "")
    # "FAILED: SemanticException ..." looks like a NAME: prefix but is the Hive metastore's own wording
    named = None if reason.startswith(_UNNAMED_OK) else _NAMED.match(reason)
    assert named or reason.startswith(_UNNAMED_OK), f"unnamed failure {reason!r} for {sql!r}"
    if named:
        assert named.group(1) in ERRORS, f"unknown error name in {reason!r} for {sql!r}"
        assert named.group(1) != "GENERIC_INTERNAL_ERROR", f"internal error {reason!r} for {sql!r}"
    assert status["AthenaError"]["ErrorCategory"] == 2, f"not a user error: {reason!r} for {sql!r}"


# ---------------------------------------------------------------------------------------- grammar

COLUMNS = ["symbol", "price", "size", "event_time", "dt", "hour", "t.symbol", "t.price"]
FUNCTIONS = sorted(REGISTRY)
TYPES = [
    "integer", "bigint", "double", "real", "varchar", "varchar(3)", "decimal(5,2)", "boolean", "date",
    "timestamp", "array(integer)", "map(varchar, integer)", "row(a integer, b varchar)", "json", "char(4)",
]  # fmt: skip
LITERALS = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: str(d)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:e}"),
    st.text(max_size=8).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(
        [
            "NULL",
            "true",
            "false",
            "DATE '2024-01-01'",
            "TIMESTAMP '2024-01-01 09:00:00.000'",
            "INTERVAL '1' DAY",
            "TIMESTAMP '2024-01-01 09:00:00.000 UTC'",
            "DECIMAL '1.50'",
            "X'ab'",
            "JSON '[1, 2]'",
            "ARRAY[1, 2, 3]",
            "MAP(ARRAY['a'], ARRAY[1])",
            "ROW(1, 'a')",
            "ARRAY[]",
        ]
    ),
)


def _expressions(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children, st.sampled_from(["+", "-", "*", "/", "%", "||", "=", "<>", "<", ">=", "AND", "OR"]), children
    )
    return st.one_of(
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"NOT {c}"),
        children.map(lambda c: f"-({c})"),
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(children, st.sampled_from(TYPES)).map(lambda t: f"CAST({t[0]} AS {t[1]})"),
        st.tuples(children, st.sampled_from(TYPES)).map(lambda t: f"try_cast({t[0]} AS {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"CASE WHEN {t[0]} THEN {t[1]} ELSE {t[2]} END"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, st.lists(children, min_size=1, max_size=3)).map(lambda t: f"{t[0]} IN ({', '.join(t[1])})"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
        st.tuples(st.sampled_from(["transform", "filter", "any_match"]), children, children).map(
            lambda t: f"{t[0]}({t[1]}, x -> {t[2]})"
        ),
        children.map(lambda c: f"{c} IS NULL"),
    )


EXPRESSIONS = st.recursive(st.one_of(LITERALS, st.sampled_from(COLUMNS)), _expressions, max_leaves=6)


@st.composite
def select_statements(draw: st.DrawFn) -> str:
    items = draw(st.lists(EXPRESSIONS, min_size=1, max_size=3))
    sql = "SELECT " + ", ".join(items)
    if draw(st.booleans()):
        sql += " FROM ticks t" + draw(
            st.sampled_from(["", " JOIN ticks u ON t.symbol = u.symbol", ", UNNEST(ARRAY[1, 2]) AS n(x)"])
        )
        if draw(st.booleans()):
            sql += " WHERE " + draw(EXPRESSIONS)
        if draw(st.booleans()):
            sql += " GROUP BY " + draw(st.sampled_from(["1", "symbol", "dt, hour", "ROLLUP (dt, hour)"]))
        if draw(st.booleans()):
            sql += " ORDER BY " + draw(st.sampled_from(["1", "2 DESC NULLS FIRST", "price"]))
        if draw(st.booleans()):
            sql += " LIMIT " + str(draw(st.integers(0, 5)))
    return sql


CORPUS_SQL = [
    c.sql.replace("${db}", "fuzz_db").replace("${bucket}", "fuzz-lake") for f in load_corpus() for c in f.cases
]


@st.composite
def mutated_corpus_queries(draw: st.DrawFn) -> str:
    """A corpus query with a few tokens cut, repeated or swapped: almost-valid SQL."""
    tokens = re.findall(r"\w+|'[^']*'|\S", draw(st.sampled_from(CORPUS_SQL)))
    for _ in range(draw(st.integers(1, 3))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        action = draw(st.sampled_from(["drop", "repeat", "swap", "replace"]))
        if action == "drop":
            del tokens[i]
        elif action == "repeat":
            tokens.insert(i, tokens[i])
        elif action == "swap" and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        else:
            tokens[i] = draw(st.sampled_from(["(", ")", ",", "NULL", "*", "'x'", "1", "SELECT", "FROM", "x ->", "[1]"]))
    return " ".join(tokens)


def test_arbitrary_text_never_breaks_the_endpoint(fuzz_target: tuple[Any, Lake, Any]) -> None:
    @FUZZ
    @given(st.text(max_size=200))
    def property_(sql: str) -> None:
        check(fuzz_target, sql)

    property_()


def test_grammar_shaped_sql_ends_succeeded_or_with_a_named_error(fuzz_target: tuple[Any, Lake, Any]) -> None:
    @FUZZ
    @given(select_statements())
    def property_(sql: str) -> None:
        check(fuzz_target, sql)

    property_()


def test_mutated_corpus_queries_end_with_an_answer_or_a_named_error(fuzz_target: tuple[Any, Lake, Any]) -> None:
    @FUZZ
    @given(mutated_corpus_queries())
    # found by this test in CI: a reserved word where INSERT INTO expects the table name
    @example(sql="INSERT INTO VALUES ( 'ZZZZ' , 7 )")
    @example(sql="INSERT INTO ( SELECT 1 ) VALUES ( 1 )")
    @example(sql="DROP TABLE never_created")  # Hive's "FAILED: SemanticException" wording, not a NAME
    def property_(sql: str) -> None:
        check(fuzz_target, sql)

    property_()
