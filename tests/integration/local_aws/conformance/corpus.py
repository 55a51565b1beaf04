"""The conformance corpus: loading the cases, running one through the Athena API, judging the answer.

A case (one entry of ``cases/<family>.yaml``) is SQL plus what Athena engine v3 answers, written from
the Trino and Athena documentation before the case was ever run:

``id``            unique, snake_case.
``sql``           the statement; ``${db}``, ``${bucket}``, ``${output}`` and ``${size:<s3 key>}`` are
                  replaced by the runner (the query runs with the dataset's database as context).
``rows``          expected data rows as ``GetQueryResults`` returns them: every value a string, NULL as
                  ``null`` (an absent ``VarCharValue``). Compared in order unless ``unordered: true``.
``columns``       expected column labels (the header row / ``ColumnInfo.Name``).
``types``         expected ``ColumnInfo.Type`` per column; a decimal is written ``decimal(p,s)`` and is
                  compared with ``Type(Precision,Scale)``.
``error``         expected error name: the query must end FAILED with ``StateChangeReason`` starting
                  ``NAME:`` and ``AthenaError.ErrorCategory`` 2 (user error).
``message``       a substring the failure reason must contain (with ``error``).
``update_count``  expected ``UpdateCount`` (CTAS, INSERT INTO).
``setup``         statements run first; each must succeed (DDL scenarios are self-contained).
``kind``          ``query`` (default: a SELECT, whose first result row is the header) or ``utility``
                  (SHOW/DESCRIBE: no header row is required; a first row equal to the labels is dropped).
``strip_cells``   compare each cell with the whitespace around its tab-separated parts removed and empty
                  trailing parts dropped (Athena pads the Hive-style output of SHOW COLUMNS and DESCRIBE).
``why``           how the expectation was derived, where that is not obvious.
``unsupported``   a reason: the case is kept for the record but not run.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).parent / "cases"

KEYS = {
    "id",
    "sql",
    "rows",
    "columns",
    "types",
    "error",
    "message",
    "update_count",
    "setup",
    "kind",
    "why",
    "unsupported",
    "unordered",
    "strip_cells",
}
USER_ERROR_CATEGORY = 2
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
QUERY_TIMEOUT = 120.0
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+(?::[^}]+)?)\}")


@dataclass(frozen=True)
class Case:
    id: str
    family: str
    sql: str
    rows: list[list[str | None]] | None = None
    columns: list[str] | None = None
    types: list[str] | None = None
    error: str | None = None
    message: str | None = None
    update_count: int | None = None
    setup: tuple[str, ...] = ()
    kind: str = "query"
    why: str = ""
    unsupported: str | None = None
    unordered: bool = False
    strip_cells: bool = False


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    sources: tuple[str, ...]
    cases: tuple[Case, ...]


class CorpusError(ValueError):
    """A case file that does not follow the format above."""


def _check_case(raw: dict[str, Any], where: str) -> None:
    unknown = set(raw) - KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(raw.get("id"), str) or not re.fullmatch(r"[a-z0-9_]+", raw["id"]):
        raise CorpusError(f"{where}: id must be snake_case")
    if not isinstance(raw.get("sql"), str) or not raw["sql"].strip():
        raise CorpusError(f"{where}: sql is required")
    expects = [k for k in ("rows", "error", "update_count") if k in raw]
    if not expects and "unsupported" not in raw:
        raise CorpusError(f"{where}: a case expects rows, an error or an update_count")
    if "error" in raw and ("rows" in raw or "types" in raw):
        raise CorpusError(f"{where}: a case expects either an error or a result")
    if "error" in raw and not re.fullmatch(r"[A-Z][A-Z0-9_]+", raw["error"]):
        raise CorpusError(f"{where}: error must be an error name such as TYPE_MISMATCH")
    rows = raw.get("rows")
    if rows is not None:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise CorpusError(f"{where}: rows must be a list of lists")
        for row in rows:
            for value in row:
                if value is not None and not isinstance(value, str):
                    raise CorpusError(f"{where}: every value is a string or null (got {value!r} in {row})")
        widths = {len(r) for r in rows}
        if len(widths) > 1:
            raise CorpusError(f"{where}: rows of different widths")
        for name in ("columns", "types"):
            if name in raw and rows and len(raw[name]) != len(rows[0]):
                raise CorpusError(f"{where}: {name} has {len(raw[name])} entries, rows have {len(rows[0])}")
        unordered = raw.get("unordered") or _ORDER_BY.search(raw["sql"])
        if len(rows) > 1 and not unordered and raw.get("kind", "query") == "query":
            raise CorpusError(f"{where}: several rows but no ORDER BY; add one or set unordered: true")
    if raw.get("kind", "query") not in ("query", "utility"):
        raise CorpusError(f"{where}: kind is query or utility")


def load_family(path: Path) -> Family:
    doc = yaml.safe_load(path.read_text())
    name = doc.get("family") or path.stem
    if name != path.stem:
        raise CorpusError(f"{path.name}: family {name!r} must match the file name")
    cases = []
    for index, raw in enumerate(doc.get("cases") or []):
        _check_case(raw, f"{path.name} case #{index + 1} ({raw.get('id')})")
        cases.append(
            Case(
                id=raw["id"],
                family=name,
                sql=raw["sql"].strip(),
                rows=raw.get("rows"),
                columns=raw.get("columns"),
                types=raw.get("types"),
                error=raw.get("error"),
                message=raw.get("message"),
                update_count=raw.get("update_count"),
                setup=tuple(s.strip() for s in raw.get("setup") or ()),
                kind=raw.get("kind", "query"),
                why=" ".join(str(raw.get("why", "")).split()),
                unsupported=raw.get("unsupported"),
                unordered=bool(raw.get("unordered", False)),
                strip_cells=bool(raw.get("strip_cells", False)),
            )
        )
    return Family(name=name, title=doc.get("title", name), sources=tuple(doc.get("sources") or ()), cases=tuple(cases))


def load_corpus(cases_dir: Path = CASES_DIR) -> list[Family]:
    families = [load_family(p) for p in sorted(cases_dir.glob("*.yaml"))]
    seen = Counter(c.id for f in families for c in f.cases)
    duplicates = sorted(i for i, n in seen.items() if n > 1)
    if duplicates:
        raise CorpusError(f"duplicate case ids: {duplicates}")
    return families


def expand(text: str, values: dict[str, str]) -> str:
    """Replace ``${name}`` tokens; an unknown token is an error in the case, not a silent pass."""

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise CorpusError(f"unknown placeholder ${{{key}}}")
        return values[key]

    return _PLACEHOLDER.sub(sub, text)


# ---------------------------------------------------------------------------------------------------
# Running a statement
# ---------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What the endpoint said about one statement."""

    state: str
    reason: str = ""
    athena_error: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    update_count: int | None = None
    start_error: str | None = None


def _column_type(info: dict[str, Any]) -> str:
    kind = info.get("Type", "")
    if kind == "decimal":
        return f"decimal({info.get('Precision')},{info.get('Scale')})"
    return kind


def run_statement(athena: Any, sql: str, database: str, output: str) -> Answer:
    """StartQueryExecution, poll GetQueryExecution to a final state, read every GetQueryResults page."""
    try:
        qid = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Catalog": "AwsDataCatalog", "Database": database},
            ResultConfiguration={"OutputLocation": output},
        )["QueryExecutionId"]
    except Exception as exc:  # a ClientError here is a finding, reported as such
        return Answer(state="REJECTED", start_error=f"{type(exc).__name__}: {exc}")
    deadline = time.monotonic() + QUERY_TIMEOUT
    while True:
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        status = execution["Status"]
        if status["State"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            return Answer(state="TIMEOUT", reason=f"still {status['State']} after {QUERY_TIMEOUT}s")
        time.sleep(0.02)
    answer = Answer(
        state=status["State"],
        reason=status.get("StateChangeReason", ""),
        athena_error=status.get("AthenaError", {}),
    )
    if answer.state != "SUCCEEDED":
        return answer
    kwargs: dict[str, Any] = {"QueryExecutionId": qid}
    first = True
    while True:
        page = athena.get_query_results(**kwargs)
        if first:
            infos = page["ResultSet"].get("ResultSetMetadata", {}).get("ColumnInfo", [])
            answer.labels = [i.get("Label", i.get("Name", "")) for i in infos]
            answer.types = [_column_type(i) for i in infos]
            answer.update_count = page.get("UpdateCount")
            first = False
        answer.rows += [[d.get("VarCharValue") for d in r.get("Data", [])] for r in page["ResultSet"].get("Rows", [])]
        if not page.get("NextToken"):
            return answer
        kwargs["NextToken"] = page["NextToken"]


# ---------------------------------------------------------------------------------------------------
# Judging an answer
# ---------------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """``category``: pass, wrong_result, wrong_types, unexpected_error, no_error, wrong_error, setup_failed."""

    category: str
    problems: list[str] = field(default_factory=list)
    got_error: str | None = None

    @property
    def passed(self) -> bool:
        return self.category == "pass"


def error_name(reason: str) -> str | None:
    match = re.match(r"([A-Z][A-Z0-9_]+):", reason or "")
    return match.group(1) if match else None


def strip_cell(value: str | None) -> str | None:
    """``'symbol   \tstring   \t   '`` -> ``'symbol\tstring'``."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split("\t")]
    while parts and not parts[-1]:
        parts.pop()
    return "\t".join(parts)


def _fmt_rows(rows: list[list[str | None]], limit: int = 12) -> str:
    shown = [" | ".join("NULL" if v is None else repr(v) for v in r) for r in rows[:limit]]
    more = f"\n      ... {len(rows) - limit} more" if len(rows) > limit else ""
    return "\n".join(f"      {s}" for s in shown) + more if shown else "      (no rows)"


def _failure_text(answer: Answer) -> str:
    if answer.start_error:
        return f"StartQueryExecution raised {answer.start_error}"
    return f"{answer.state}: {answer.reason}".strip()


def judge(case: Case, answer: Answer, values: dict[str, str]) -> Verdict:
    """Compare an answer with the case's expectations; every difference becomes one problem line."""
    if case.error:
        if answer.state == "SUCCEEDED":
            header = 1 if answer.rows and answer.rows[0] == answer.labels else 0
            data_rows = len(answer.rows) - header
            return Verdict("no_error", [f"expected {case.error}, but the query succeeded with {data_rows} rows"])
        got = error_name(answer.reason)
        problems = []
        if answer.start_error or got != case.error:
            problems.append(f"expected error {case.error}, got {_failure_text(answer)!r}")
        message = expand(case.message, values) if case.message else None
        if message and message not in answer.reason:
            problems.append(f"reason should contain {message!r}: {answer.reason!r}")
        if not answer.start_error:
            category = answer.athena_error.get("ErrorCategory")
            if category != USER_ERROR_CATEGORY:
                problems.append(f"AthenaError.ErrorCategory should be {USER_ERROR_CATEGORY} (user), got {category!r}")
        return Verdict("wrong_error" if problems else "pass", problems, got_error=got)

    if answer.state != "SUCCEEDED":
        return Verdict(
            "unexpected_error",
            [f"expected a result, got {_failure_text(answer)!r}"],
            got_error=error_name(answer.reason),
        )
    problems: list[str] = []
    category = "pass"
    rows = answer.rows
    if case.kind == "query" and case.rows is not None:
        if not rows or rows[0] != answer.labels:
            problems.append(f"the first result row should be the header {answer.labels}, got {rows[:1]}")
            category = "wrong_result"
        else:
            rows = rows[1:]
    elif case.kind == "utility" and rows and rows[0] == answer.labels and case.rows and case.rows[0] != answer.labels:
        rows = rows[1:]
    if case.columns is not None and answer.labels != case.columns:
        problems.append(f"column labels: expected {case.columns}, got {answer.labels}")
        category = "wrong_result"
    if case.rows is not None:
        expected = [[None if v is None else expand(v, values) for v in r] for r in case.rows]
        if case.strip_cells:
            rows = [[strip_cell(v) for v in r] for r in rows]
        same = Counter(map(tuple, expected)) == Counter(map(tuple, rows)) if case.unordered else expected == rows
        if not same:
            problems.append(f"rows differ\n    expected:\n{_fmt_rows(expected)}\n    got:\n{_fmt_rows(rows)}")
            category = "wrong_result"
    if case.update_count is not None and answer.update_count != case.update_count:
        problems.append(f"UpdateCount: expected {case.update_count}, got {answer.update_count}")
        category = "wrong_result"
    if case.types is not None and answer.types != case.types:
        problems.append(f"ColumnInfo types: expected {case.types}, got {answer.types}")
        if category == "pass":
            category = "wrong_types"
    return Verdict(category, problems)
