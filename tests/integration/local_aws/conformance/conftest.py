"""Prints the conformance score at the end of the run, whatever passed or failed, and saves the results
for the compatibility table (``compat_table.py``)."""

from __future__ import annotations

from typing import Any

from tests.integration.local_aws.conformance.report import RESULTS, RESULTS_PATH


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not RESULTS.cases:
        return
    terminalreporter.section("Athena conformance")
    for line in RESULTS.summary_lines():
        terminalreporter.write_line(line)
    RESULTS.save()
    terminalreporter.write_line(f"results saved to {RESULTS_PATH}")
