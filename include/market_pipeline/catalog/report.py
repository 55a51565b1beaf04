"""The per-interval validation report: what each check expected and found, for people and the UI.

The common.sql check operators are the gates that fail a run; this report records the numbers
behind every check (the registry in :mod:`market_pipeline.catalog.checks`, evaluated on the
validation_stats row) in one JSON document per interval, at :func:`market_pipeline.layout.report_key`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from market_pipeline import layout, s3io
from market_pipeline.catalog import checks as registry

REPORT_VERSION = 1
BARS_CHECK = "bars_match_pandas"  # the pandas cross-check of the curated bars (its own task, not SQL)


def build_report(
    table: str,
    interval_start: datetime,
    interval_end: datetime,
    summary: dict[str, Any],
    stats: dict[str, Any] | None,
    task_states: dict[str, str],
    bars: dict[str, Any] | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Evaluate every registered check on the stats row; a check passes only if its gate task succeeded too."""
    checks: list[dict[str, Any]] = []

    def add(name: str, task_id: str, expected: Any, actual: Any, passed: bool, message: str) -> None:
        state = task_states.get(task_id)
        gate_ok = state in (None, "success")
        checks.append(
            {
                "name": name,
                "passed": bool(passed and gate_ok),
                "expected": expected,
                "actual": actual,
                "message": message if gate_ok else f"{message} (gate task {state})",
            }
        )

    if stats is None:
        checks.append(
            {
                "name": "validation_query",
                "passed": False,
                "expected": "a result",
                "actual": None,
                "message": "the validation statistics query did not run; see the task log",
            }
        )
    else:
        for check in registry.registered():
            expected = summary["rows"] if check.expected == registry.MANIFEST_ROWS else 0
            actual = _int(stats.get(check.column))
            add(check.name, check.task_id, expected, actual, actual == expected, f"{actual} {check.meaning}")
    bars_task = f"check_{BARS_CHECK}"
    if bars is not None:
        problems = bars.get("problems", [])
        message = f"{bars.get('bars', 0)} bars compared; " + "; ".join(problems[:5])
        add(BARS_CHECK, bars_task, 0, len(problems), not problems, message)
    elif task_states.get(bars_task) not in (None, "success"):
        add(BARS_CHECK, bars_task, 0, None, False, "the bars were not built or compared")

    failed_tasks = sorted(t for t, s in task_states.items() if s not in ("success", "skipped"))
    status = "passed" if all(c["passed"] for c in checks) and not failed_tasks else "failed"
    return {
        "report_version": REPORT_VERSION,
        "table": table,
        "interval_start": layout.format_instant(interval_start),
        "interval_end": layout.format_instant(interval_end),
        "status": status,
        "checks": checks,
        "failed_tasks": failed_tasks,
        "athena_rows": None if stats is None else _int(stats.get(registry.ROW_COUNT.column)),
        "manifest_rows": summary["rows"],
        "manifest_messages": summary["messages"],
        "dlq": summary["dlq"],
        "windows": summary["windows"],
        "generated_at": layout.format_instant((now or datetime.now(UTC)).replace(microsecond=0)),
    }


def write_report(s3: Any, bucket: str, report: dict[str, Any]) -> str:
    key = layout.report_key(report["table"], layout.parse_instant(report["interval_end"]))
    s3io.put_json(s3, bucket, key, report)
    return key


def failure_summary(report: dict[str, Any]) -> str:
    failed = [c for c in report["checks"] if not c["passed"]]
    lines = [f"validation failed for interval [{report['interval_start']}, {report['interval_end']}):"]
    lines += [f"  {c['name']}: expected {c['expected']}, got {c['actual']} - {c['message']}" for c in failed]
    if report["failed_tasks"]:
        lines.append(f"  failed tasks: {', '.join(report['failed_tasks'])}")
    return "\n".join(lines)


def _int(value: Any) -> int:
    return 0 if value in (None, "") else int(float(value))
