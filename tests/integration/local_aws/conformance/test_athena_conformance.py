"""Athena conformance: every case of ``cases/*.yaml`` runs through boto3 against the local endpoint.

The dataset is written and crawled once per module (``dataset.py``); each case is one test, so a
failure names its case and shows the difference, and ``conformance: P/N`` (per family too) is printed
at the end of the run by this directory's conftest. The expectations come from the Trino and Athena
documentation (see README.md), never from the endpoint's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.local_aws.conformance.compat_table import readme_table
from tests.integration.local_aws.conformance.corpus import Case, expand, judge, load_corpus, run_statement
from tests.integration.local_aws.conformance.dataset import World, build_world
from tests.integration.local_aws.conformance.report import RESULTS, CaseResult, compatibility_table
from tests.support import ROOT

FAMILIES = load_corpus()
CASES = [case for family in FAMILIES for case in family.cases]
MIN_CASES = 300


@pytest.fixture(scope="module")
def world(aws_client: Callable[..., Any]) -> World:
    return build_world(aws_client)


@pytest.fixture(scope="module")
def athena(aws_client: Callable[..., Any]) -> Any:
    return aws_client("athena")


def test_corpus_is_well_formed() -> None:
    runnable = [c for c in CASES if not c.unsupported]
    assert len(runnable) >= MIN_CASES, f"the corpus has {len(runnable)} runnable cases, fewer than {MIN_CASES}"
    for family in FAMILIES:
        assert family.sources, f"{family.name}: name the documentation the expectations come from"
        assert family.cases, f"{family.name}: no cases"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}/{c.id}" for c in CASES])
def test_case(case: Case, athena: Any, world: World) -> None:
    RESULTS.titles.update({f.name: f.title for f in FAMILIES})
    if case.unsupported:
        RESULTS.unsupported[case.id] = case.unsupported
        pytest.skip(f"unsupported: {case.unsupported}")
    values = world.placeholders()
    sql = expand(case.sql, values)
    for statement in case.setup:
        answer = run_statement(athena, expand(statement, values), world.database, world.output)
        if answer.state != "SUCCEEDED":
            problem = f"setup statement failed: {answer.start_error or answer.reason}\n    {statement}"
            RESULTS.record(CaseResult(case.id, case.family, "setup_failed", problem))
            pytest.fail(f"{case.family}/{case.id}: setup_failed\n  {problem}", pytrace=False)
    verdict = judge(case, run_statement(athena, sql, world.database, world.output), values)
    detail = "\n  ".join(verdict.problems)
    RESULTS.record(CaseResult(case.id, case.family, verdict.category, detail, verdict.got_error))
    if not verdict.passed:
        why = f"\n  why: {case.why}" if case.why else ""
        pytest.fail(f"{case.family}/{case.id}: {verdict.category}\n  sql: {sql}\n  {detail}{why}", pytrace=False)


def test_readme_compatibility_table_is_current() -> None:
    """Runs after every case (definition order): the README's table is the one this run produces."""
    runnable = {c.id for c in CASES if not c.unsupported}
    if set(RESULTS.cases) != runnable:
        pytest.skip("the README's table is checked only when the whole corpus ran in this session")
    current = readme_table((ROOT / "README.md").read_text())
    assert current is not None, "README.md has lost its Athena compatibility table markers"
    assert current == compatibility_table(RESULTS), (
        "README.md's Athena compatibility table is stale: run `make compat-table` and commit README.md"
    )
