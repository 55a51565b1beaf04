"""Merging the schemas of the files a crawl groups into one table (types from ``catalog_types``).

Why widening: AWS's crawler puts files whose numeric types differ into one table with the wider
type; genuinely different types are a conflict, and CombineCompatibleSchemas refuses to merge them.
"""

from __future__ import annotations

from local_aws.catalog_types import Column

_NUMERIC_RANK = {"tinyint": 1, "smallint": 2, "int": 3, "bigint": 4, "float": 5, "double": 6}


def widen(a: str, b: str) -> str | None:
    """The type both ``a`` and ``b`` fit in, or None when they conflict."""
    if a == b:
        return a
    if a in _NUMERIC_RANK and b in _NUMERIC_RANK:
        if {a, b} & {"float", "double"} and {a, b} & {"bigint"}:
            return "double"
        return a if _NUMERIC_RANK[a] >= _NUMERIC_RANK[b] else b
    return None


def merge_columns(base: list[Column], extra: list[Column]) -> tuple[list[Column], list[str]]:
    """Union of two column lists, order of first appearance; returns (columns, conflicts)."""
    merged = [dict(c) for c in base]
    index = {c["Name"]: i for i, c in enumerate(merged)}
    conflicts: list[str] = []
    for col in extra:
        i = index.get(col["Name"])
        if i is None:
            index[col["Name"]] = len(merged)
            merged.append(dict(col))
            continue
        wider = widen(merged[i]["Type"], col["Type"])
        if wider is None:
            conflicts.append(f"{col['Name']}: {merged[i]['Type']} vs {col['Type']}")
        else:
            merged[i]["Type"] = wider
    return merged, conflicts


def compatible(a: list[Column], b: list[Column]) -> bool:
    """True when the two schemas merge without a type conflict (CombineCompatibleSchemas)."""
    return not merge_columns(a, b)[1]
