"""The per-interval validation report: what each check expected and found, for people and the UI.

The common.sql check operators are the gates that fail a run; this report records the numbers
behind every check (the registry in :mod:`market_pipeline.catalog.checks`, evaluated on the
validation_stats row) in one JSON document per interval, at :func:`market_pipeline.layout.report_key`.

It also states the interval's coverage (:mod:`market_pipeline.coverage`): an interval without a manifest
says "no manifest: ingest did not complete" (its wait for the manifest timed out), and objects in the
interval's offsets that no manifest lists fail the report with their keys, since Athena would count
their rows as data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from market_pipeline import layout, s3io
from market_pipeline.catalog import checks as registry
from market_pipeline.coverage import IntervalCoverage

REPORT_VERSION = 1
BARS_CHECK = "bars_match_pandas"  # the pandas cross-check of the curated bars (its own task, not SQL)
MANIFEST_CHECK = "manifest_present"
UNLISTED_CHECK = "no_unlisted_objects"


def build_report(
    table: str,
    interval_start: datetime,
    interval_end: datetime,
    summary: dict[str, Any],
    stats: dict[str, Any] | None,
    task_states: dict[str, str],
    bars: dict[str, Any] | None,
    now: datetime | None = None,
    coverage: IntervalCoverage | None = None,
) -> dict[str, Any]:
    """Evaluate every registered check on the stats row; a check passes only if its gate task succeeded too.

    With `coverage`, the report also says whether the interval has a manifest and names the objects in
    its offsets that no manifest lists.
    """
    checks: list[dict[str, Any]] = []
    unlisted = list(coverage.unlisted) if coverage is not None else []
    if coverage is not None:
        checks.append(
            {
                "name": MANIFEST_CHECK,
                "passed": coverage.complete,
                "expected": "at least 1",
                "actual": coverage.manifests,
                "message": coverage.message,
            }
        )
        checks.append(
            {
                "name": UNLISTED_CHECK,
                "passed": not unlisted,
                "expected": 0,
                "actual": len(unlisted),
                "message": _unlisted_message(unlisted),
            }
        )

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
        no_manifest = coverage is not None and not coverage.complete
        checks.append(
            {
                "name": "validation_query",
                "passed": False,
                "expected": "a result",
                "actual": None,
                "message": (
                    f"not run: {coverage.message}"
                    if no_manifest and coverage is not None
                    else "the validation statistics query did not run; see the task log"
                ),
            }
        )
    else:
        for check in registry.registered():
            expected = summary["rows"] if check.expected == registry.MANIFEST_ROWS else 0
            actual = _int(stats.get(check.column))
            message = f"{actual} {check.meaning}"
            if check is registry.ROW_COUNT and actual != expected and unlisted:
                message += f"; {_unlisted_message(unlisted)}"
            add(check.name, check.task_id, expected, actual, actual == expected, message)
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
        "coverage": coverage.to_dict() if coverage is not None else None,
        "generated_at": layout.format_instant((now or datetime.now(UTC)).replace(microsecond=0)),
    }


def _unlisted_message(keys: list[str], shown: int = 10) -> str:
    if not keys:
        return "every object in the interval's offsets is listed by a manifest"
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return (
        f"{len(keys)} data or dead-letter object(s) that no manifest lists (a window that died half-written, or "
        f"stale objects; Athena counts their rows): {', '.join(keys[:shown])}{more}"
    )


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
