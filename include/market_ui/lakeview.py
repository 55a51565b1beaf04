"""What the lake says about the pipeline: the latest ingest windows (manifests) and validation reports.

Why summaries rather than the raw documents: the page shows one row per window or report with the
numbers a person checks (messages in, rows written, dead letters, objects, bytes; failed checks), and
the JSON endpoints stay small however many objects a window wrote.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from market_pipeline import layout, s3io
from market_pipeline.manifest import Manifest, latest_manifests


def summarise_manifest(manifest: Manifest) -> dict[str, Any]:
    """One window as a table row: counts, objects and sizes, plus whether the counts add up."""
    data = manifest.data_objects
    dlq = manifest.dlq_objects
    unaccounted = manifest.messages_in - manifest.rows_out - manifest.dlq_count
    return {
        "window_start": layout.format_instant(manifest.window_start),
        "window_end": layout.format_instant(manifest.window_end),
        "topic": manifest.topic,
        "status": manifest.status,
        "messages_in": manifest.messages_in,
        "rows_out": manifest.rows_out,
        "dlq_count": manifest.dlq_count,
        "unaccounted": unaccounted,
        "data_objects": len(data),
        "dlq_objects": len(dlq),
        "data_bytes": sum(o.bytes for o in data),
        "dlq_bytes": sum(o.bytes for o in dlq),
        "partitions": [
            {
                "partition": p.partition,
                "start_offset": p.start_offset,
                "end_offset": p.end_offset,
                "messages": p.messages,
            }
            for p in manifest.partitions
        ],
        "key": manifest.key,
        "problem": manifest.status != "ok" or unaccounted != 0 or manifest.dlq_count > 0,
    }


def latest_windows(s3: Any, bucket: str, table: str, limit: int = 10) -> list[dict[str, Any]]:
    """The newest `limit` windows, newest first, through the manifest module's own reader."""
    return [summarise_manifest(m) for m in latest_manifests(s3, bucket, table, limit=limit)]


def summarise_report(doc: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """One validation report as a row; unknown or missing fields degrade to None, never raise."""
    checks = doc.get("checks") if isinstance(doc.get("checks"), list) else []
    checks = [c for c in checks if isinstance(c, dict)]
    failed = [c for c in checks if not c.get("passed")]
    status = doc.get("status")
    if status not in ("passed", "failed"):
        status = "failed" if failed else ("passed" if checks else "unknown")
    return {
        "table": doc.get("table"),
        "interval_start": doc.get("interval_start"),
        "interval_end": doc.get("interval_end"),
        "status": status,
        "athena_rows": doc.get("athena_rows"),
        "manifest_rows": doc.get("manifest_rows"),
        "generated_at": doc.get("generated_at"),
        "checks_total": len(checks),
        "checks_failed": len(failed),
        "failed_checks": [
            {
                "name": c.get("name"),
                "expected": c.get("expected"),
                "actual": c.get("actual"),
                "message": c.get("message"),
            }
            for c in failed
        ],
        "checks": [
            {
                "name": c.get("name"),
                "passed": bool(c.get("passed")),
                "expected": c.get("expected"),
                "actual": c.get("actual"),
                "message": c.get("message"),
            }
            for c in checks
        ],
        "key": key,
    }


def report_keys(s3: Any, bucket: str, table: str) -> list[str]:
    """All report keys of a table, oldest interval end first; a stray name sorts before every dated one."""
    prefix = layout.report_prefix(table)
    dated = [
        (layout.instant_of(key, prefix), key) for key in s3io.list_keys(s3, bucket, prefix) if key.endswith(".json")
    ]
    return [key for _, key in sorted(dated, key=lambda item: (item[0] is not None, item[0] or datetime.min, item[1]))]


def latest_reports(s3: Any, bucket: str, table: str, limit: int = 10) -> list[dict[str, Any]]:
    """The newest `limit` validation reports, newest first. An unreadable report becomes an error row."""
    rows = []
    for key in reversed(report_keys(s3, bucket, table)[-limit:]):
        try:
            doc = s3io.get_json(s3, bucket, key)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            rows.append({**summarise_report({}, key), "status": "unreadable", "error": f"{key}: {exc}"})
            continue
        rows.append(summarise_report(doc, key))
    return rows
