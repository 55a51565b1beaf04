"""The simulator's runs as the page shows them: what each run sent, what the broker acknowledged, and
what it did not (undelivered ticks: lost to a broker outage longer than the run's limit, or to a
shutdown that could not flush).

Why a panel of its own: a producer loss happens before Kafka, so neither the lag nor the ingest
windows can show it; only the producer's own count can. The rows come from the simulator task's XCom
(its ``summary`` when done, its ``progress`` while running), read by the plugin's client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from market_ui.queries import iso_z

# What a run's numbers are when it has not reported any yet (queued, or just started).
_EMPTY = {"sent": None, "delivered": None, "failed": None}


def summarise_run(row: dict[str, Any]) -> dict[str, Any]:
    """One run as a table row; the final summary wins over the last progress report."""
    report = row.get("summary") or row.get("progress") or {}
    numbers = {k: report.get(k, _EMPTY[k]) for k in _EMPTY}
    conf = row.get("conf") or {}
    return {
        "run_id": row["run_id"],
        "run_type": row.get("run_type"),
        "state": row.get("state"),
        "start_date": _instant(row.get("start_date")),
        "end_date": _instant(row.get("end_date")),
        "rate": report.get("rate") if row.get("summary") else conf.get("rate"),
        "sent": numbers["sent"],
        "delivered": numbers["delivered"],
        "undelivered": numbers["failed"],
        "in_flight": None if row.get("summary") else report.get("in_flight"),
        "stop_reason": report.get("stop_reason"),
        "seed": report.get("seed"),
        "final": bool(row.get("summary")),
    }


def producer_panel(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The newest runs, the running one, and the undelivered ticks over the runs listed."""
    runs = [summarise_run(row) for row in rows]
    return {
        "runs": runs,
        "running": next((r for r in runs if r["state"] == "running"), None),
        "undelivered_total": sum(r["undelivered"] or 0 for r in runs),
        "runs_with_losses": sum(1 for r in runs if (r["undelivered"] or 0) > 0),
    }


def _instant(value: Any) -> str | None:
    if value is None:
        return None
    return iso_z(value) if isinstance(value, datetime) else str(value)
