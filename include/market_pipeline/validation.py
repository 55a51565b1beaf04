"""The per-interval validation report: what each check expected and found, for people and the UI.

The common.sql check operators are the gates that fail a run; this report records the numbers
behind every check in one JSON document per interval (`_reports/<table>/<interval end>.json`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from market_pipeline.manifest import format_instant

REPORT_VERSION = 1

# Check name -> (validation_stats column, what it means). Each must be 0 to pass.
ZERO_CHECKS = {
    "no_duplicate_offsets": ("duplicate_offsets", "Kafka (partition, offset) pairs stored more than once"),
    "no_null_symbol_or_price": ("null_symbol_or_price", "rows with a null symbol or price"),
    "price_positive": ("non_positive_price", "rows with price <= 0"),
    "bid_not_above_ask": ("bid_above_ask", "rows with bid > ask"),
    "event_time_inside_partition": ("outside_partition", "rows whose event time is outside their dt/hour folder"),
}


def report_key(table: str, interval_end: datetime) -> str:
    return f"_reports/{table}/{format_instant(interval_end)}.json"


def build_report(
    table: str,
    interval_start: datetime,
    interval_end: datetime,
    summary: dict[str, Any],
    stats: dict[str, Any] | None,
    task_states: dict[str, str],
    bars: dict[str, Any] | None,
    freshness_minutes: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Evaluate every check from the numbers; a check passes only if its gate task succeeded too."""
    checks: list[dict[str, Any]] = []

    def add(name: str, expected: Any, actual: Any, passed: bool, message: str) -> None:
        state = task_states.get(f"check_{name}")
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
        rows = _int(stats.get("row_count"))
        add(
            "row_count_matches_manifests",
            summary["rows"],
            rows,
            rows == summary["rows"],
            f"Athena counts {rows} rows; the manifests of {len(summary['windows'])} window(s) wrote {summary['rows']}",
        )
        for name, (column, meaning) in ZERO_CHECKS.items():
            value = _int(stats.get(column))
            add(name, 0, value, value == 0, f"{value} {meaning}")
        newest = stats.get("newest_event_time")
        threshold = interval_start.timestamp() - freshness_minutes * 60
        newest_ts = _timestamp(newest)
        fresh = rows == 0 or (newest_ts is not None and newest_ts >= threshold)
        add(
            "freshness",
            f">= {format_instant(datetime.fromtimestamp(threshold, UTC))}",
            newest,
            fresh,
            "empty interval" if rows == 0 else f"newest tick {newest}",
        )
    if bars is not None:
        add(
            "bars_match_pandas",
            0,
            len(bars.get("problems", [])),
            not bars.get("problems"),
            f"{bars.get('bars', 0)} bars compared; " + "; ".join(bars.get("problems", [])[:5]),
        )
    elif task_states.get("check_bars_match_pandas") not in (None, "success"):
        add("bars_match_pandas", 0, None, False, "the bars were not built or compared")

    failed_tasks = sorted(t for t, s in task_states.items() if s not in ("success", "skipped"))
    status = "passed" if all(c["passed"] for c in checks) and not failed_tasks else "failed"
    return {
        "report_version": REPORT_VERSION,
        "table": table,
        "interval_start": format_instant(interval_start),
        "interval_end": format_instant(interval_end),
        "status": status,
        "checks": checks,
        "failed_tasks": failed_tasks,
        "athena_rows": None if stats is None else _int(stats.get("row_count")),
        "manifest_rows": summary["rows"],
        "manifest_messages": summary["messages"],
        "dlq": summary["dlq"],
        "windows": summary["windows"],
        "generated_at": format_instant((now or datetime.now(UTC)).replace(microsecond=0)),
    }


def write_report(s3: Any, bucket: str, report: dict[str, Any]) -> str:
    key = report_key(report["table"], datetime.fromisoformat(report["interval_end"].replace("Z", "+00:00")))
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(report, indent=2).encode(), ContentType="application/json")
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


def _timestamp(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00").replace(" UTC", ""))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
