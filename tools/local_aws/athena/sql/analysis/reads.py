"""What a query reads: the catalog tables it names and the WHERE conjuncts that can prune their partitions.

The engine binds each catalog table to a view over its registered partitions; these functions
find those tables (not CTEs, not table functions) and the conjuncts that use only partition keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp


def cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def catalog_tables(tree: exp.Expression) -> list[exp.Table]:
    """Table nodes that name catalog tables (not CTEs, not table functions like UNNEST)."""
    ctes = cte_names(tree)
    found: list[exp.Table] = []
    for table in tree.find_all(exp.Table):
        if not table.name or isinstance(table.this, (exp.Anonymous, exp.Func)):
            continue
        if not table.args.get("db") and table.name.lower() in ctes:
            continue
        found.append(table)
    return found


_NOT_PRUNABLE = (
    exp.Is,
    exp.Coalesce,
    exp.Case,
    exp.If,
    exp.Nullif,
    exp.Subquery,
    exp.Select,
    exp.AggFunc,
    exp.Window,
    exp.Placeholder,
    exp.Rand,
)


def partition_conjuncts(table: exp.Table, partition_keys: Sequence[str]) -> list[exp.Expression]:
    """WHERE conjuncts of the SELECT reading ``table`` that use only its partition keys.

    Only null-rejecting predicates are returned (no IS NULL/COALESCE/CASE), so pruning is safe even
    when the table sits on the outer side of a join. Columns come back unqualified.
    """
    keys = {k.lower() for k in partition_keys}
    if not keys:
        return []
    parent = table.parent
    if not isinstance(parent, (exp.From, exp.Join)):
        return []
    select = parent.parent
    if not isinstance(select, exp.Select):
        return []
    where = select.args.get("where")
    if where is None:
        return []
    alias = (table.alias or table.name).lower()
    from_ = select.args.get("from_") or select.args.get("from")
    sources = [from_.this] if from_ is not None else []
    sources += [j.this for j in select.args.get("joins") or []]
    single_source = len(sources) == 1
    result: list[exp.Expression] = []
    for conj in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if any(isinstance(n, _NOT_PRUNABLE) for n in conj.walk()):
            continue
        columns = list(conj.find_all(exp.Column))
        if not columns:
            continue
        ok = True
        for col in columns:
            qualifier = col.table.lower()
            if col.name.lower() not in keys or (qualifier and qualifier != alias):
                ok = False
                break
            if not qualifier and not single_source:
                ok = False
                break
        if not ok:
            continue
        stripped = conj.copy()
        for col in stripped.find_all(exp.Column):
            col.set("table", None)
            col.set("db", None)
            col.set("catalog", None)
        result.append(stripped)
    return result
