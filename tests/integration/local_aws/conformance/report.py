"""Conformance results: collected per case during the run, summarised as ``conformance: P/N`` with
per-family figures, saved as JSON, and rendered as the README's compatibility table.

Family status in the table: **supported** when every case of the family passes, **missing** when none
does, **differs** otherwise (the failing case ids are listed so a reader knows which answers to
distrust).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.support import ROOT

RESULTS_PATH = Path(os.environ.get("CONFORMANCE_RESULTS", ROOT / "test-artifacts" / "athena-conformance.json"))


@dataclass
class CaseResult:
    id: str
    family: str
    category: str  # pass, wrong_result, wrong_types, unexpected_error, no_error, wrong_error, setup_failed
    detail: str = ""
    got_error: str | None = None

    @property
    def passed(self) -> bool:
        return self.category == "pass"


class Results:
    """The cases run in this session (an unsupported case is recorded apart and never counted)."""

    def __init__(self) -> None:
        self.cases: dict[str, CaseResult] = {}
        self.unsupported: dict[str, str] = {}
        self.titles: dict[str, str] = {}

    def record(self, result: CaseResult) -> None:
        self.cases[result.id] = result

    def by_family(self) -> dict[str, list[CaseResult]]:
        out: dict[str, list[CaseResult]] = {}
        for result in self.cases.values():
            out.setdefault(result.family, []).append(result)
        return dict(sorted(out.items()))

    def summary_lines(self) -> list[str]:
        passed = sum(r.passed for r in self.cases.values())
        lines = [f"conformance: {passed}/{len(self.cases)}"]
        for family, results in self.by_family().items():
            ok = sum(r.passed for r in results)
            lines.append(f"  {family:<16} {ok:>3}/{len(results):<3} {status(ok, len(results))}")
        categories = Counter(r.category for r in self.cases.values() if not r.passed)
        if categories:
            lines.append("  failures by kind: " + ", ".join(f"{k}={v}" for k, v in sorted(categories.items())))
        if self.unsupported:
            lines.append(f"  unsupported (not run): {len(self.unsupported)}")
        return lines

    def save(self, path: Path = RESULTS_PATH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "cases": [asdict(r) for r in self.cases.values()],
            "unsupported": self.unsupported,
            "titles": self.titles,
        }
        path.write_text(json.dumps(doc, indent=1, sort_keys=True))

    @classmethod
    def load(cls, path: Path = RESULTS_PATH) -> Results:
        doc = json.loads(path.read_text())
        results = cls()
        for raw in doc["cases"]:
            results.record(CaseResult(**raw))
        results.unsupported = doc.get("unsupported", {})
        results.titles = doc.get("titles", {})
        return results


def status(passed: int, total: int) -> str:
    if passed == total:
        return "supported"
    return "missing" if passed == 0 else "differs"


def compatibility_table(results: Results) -> str:
    """The Markdown table for the README: one line per function family."""
    lines = [
        "| Family | Cases passing | Status | Cases that differ |",
        "| --- | --- | --- | --- |",
    ]
    for family, cases in results.by_family().items():
        ok = sum(r.passed for r in cases)
        failing = ", ".join(f"`{r.id}`" for r in sorted(cases, key=lambda r: r.id) if not r.passed)
        title = results.titles.get(family, family)
        lines.append(f"| {title} | {ok}/{len(cases)} | {status(ok, len(cases))} | {failing or '-'} |")
    total = sum(r.passed for r in results.cases.values())
    lines.append(f"| **All** | **{total}/{len(results.cases)}** | | |")
    if results.unsupported:
        lines += [
            "",
            f"{len(results.unsupported)} more cases are kept in the corpus but not run: their answers could not be "
            "derived from the documentation (listed in the corpus README).",
        ]
    return "\n".join(lines) + "\n"


RESULTS = Results()
