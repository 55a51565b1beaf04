"""FROM items: catalog tables and views, CTEs, subqueries, VALUES, UNNEST and LATERAL, and the joins
between them (ON must be boolean, USING columns exist on both sides).

A catalog table's relation also holds Athena's hidden columns ``"$path"``, ``"$file_size"`` and
``"$file_modified_time"`` (not part of ``SELECT *``); the ones a query uses are recorded on its
:class:`~.context.Source` so the engine reads them only then. UNNEST expands an array of rows into one
column per field and a map into key and value columns, as Trino does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from local_aws.athena.errors import QueryFailed, not_supported
from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis import grouping
from local_aws.athena.sql.analysis.context import SOURCE, Context, coerce, set_type
from local_aws.athena.sql.analysis.scope import Field, Relation, Scope
from local_aws.athena.sql.coercion import super_type_of

if TYPE_CHECKING:
    from local_aws.athena.sql.analysis.queries import QueryAnalyzer

PSEUDO_COLUMNS = {
    "$path": T.VARCHAR,
    "$file_size": T.BIGINT,
    "$file_modified_time": T.timestamp_tz(3, "UTC"),
}
UNNEST_KINDS = "unnest_kinds"  # meta: per UNNEST argument, "array", "rows" or "map"


class RelationAnalyzer:
    def __init__(self, ctx: Context, queries: QueryAnalyzer) -> None:
        self.ctx = ctx
        self.queries = queries

    def pos(self, node: exp.Expression | None) -> tuple[int, int] | None:
        return self.ctx.position(node)

    def from_clause(self, select: exp.Select, parent: Scope | None) -> tuple[list[Relation], dict[str, T.TrinoType]]:
        relations: list[Relation] = []
        using: dict[str, T.TrinoType] = {}
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is not None:
            relations.append(self.relation(from_.this, parent, relations))
        for join in select.args.get("joins") or []:
            left = list(relations)
            right = self.relation(join.this, parent, relations)
            relations.append(right)
            on = join.args.get("on")
            if on is not None:
                scope = Scope(relations, parent, using=using)
                self.queries.expressions.boolean(on, scope, "JOIN ON clause must evaluate to a boolean: actual type {}")
                grouping.require_scalar(on, "JOIN", self.ctx)
            for ident in join.args.get("using") or []:
                name = ident.name.lower()
                lefts = [f for r in left for f in r.named(name)]
                rights = right.named(name)
                if not lefts or not rights:
                    raise QueryFailed(
                        "COLUMN_NOT_FOUND",
                        f"Column '{name}' is missing from {'left' if not lefts else 'right'} side of join",
                        position=self.pos(ident),
                    )
                common = super_type_of([lefts[0].type, rights[0].type])
                if common is None:
                    raise QueryFailed(
                        "TYPE_MISMATCH", f"Column types of join column '{name}' do not match", position=self.pos(ident)
                    )
                using[name] = common
        return relations, using

    def relation(self, node: exp.Expression, parent: Scope | None, previous: list[Relation]) -> Relation:
        alias_node = node.args.get("alias")
        alias = alias_node.name.lower() if alias_node is not None and alias_node.name else None
        column_aliases = [c.name.lower() for c in alias_node.columns] if alias_node is not None else []
        qualified: tuple[str, ...] = ()
        if isinstance(node, exp.Table) and not isinstance(node.this, (exp.Anonymous, exp.Func)):
            fields, qualified = self._table(node)
        elif isinstance(node, exp.Subquery):
            fields = [Field(f.name, f.type) for f in self.queries.query(node.this, parent)]
        elif isinstance(node, exp.Values):
            fields = self.values(node, parent)
        elif isinstance(node, exp.Unnest):
            fields = self._unnest(node, Scope(previous, parent))
        elif isinstance(node, exp.Lateral):
            fields = [Field(f.name, f.type) for f in self.queries.query(node.this, Scope(previous, parent))]
            alias_node = node.args.get("alias")
            alias = alias_node.name.lower() if alias_node is not None and alias_node.name else alias
        elif isinstance(node, exp.Table) and isinstance(node.this, (exp.Anonymous, exp.Func)):
            raise not_supported(f"Table function {node.this.sql(dialect='trino')[:40]}", self.pos(node))
        elif isinstance(node, (exp.Select, exp.SetOperation, exp.Literal, exp.Column, exp.Paren)):
            shown = node.sql(dialect="trino")[:40]
            raise QueryFailed(
                "SYNTAX_ERROR", f"mismatched input '{shown}'. Expecting: <relation>", position=self.pos(node)
            )
        else:
            raise not_supported(f"{type(node).__name__} in FROM", self.pos(node))
        if column_aliases and not isinstance(node, exp.Unnest):
            visible = [f for f in fields if not f.hidden]
            if len(column_aliases) != len(visible):
                raise QueryFailed(
                    "MISMATCHED_COLUMN_ALIASES",
                    f"Column alias list has {len(column_aliases)} entries but '{alias}' has {len(visible)} columns available",
                    position=self.pos(alias_node),
                )
            renamed = iter(column_aliases)
            fields = [f if f.hidden else Field(next(renamed), f.type) for f in fields]
        relation = Relation(alias, fields, () if alias else qualified, node)
        source = node.meta.get(SOURCE)
        if source is not None:
            relation.pseudo_used = source.pseudo  # the engine reads the hidden columns a query uses
        return relation

    def _table(self, node: exp.Table) -> tuple[list[Field], tuple[str, ...]]:
        for clause in ("sample", "version", "pivots", "hints", "when", "changes"):
            if node.args.get(clause):
                shown = "TABLESAMPLE" if clause == "sample" else clause.upper()
                raise not_supported(shown, self.pos(node))
        name = node.name.lower()
        if not node.args.get("db"):
            cte = self.queries.cte(name)
            if cte is not None:
                node.meta["cte"] = True
                return [Field(f.name, f.type) for f in cte], (name,)
        source = self.ctx.sources.lookup(node, self.ctx.database, self.pos(node))
        node.meta[SOURCE] = source
        fields = list(source.columns)
        if source.kind == "table":
            fields += [Field(n, t, hidden=True) for n, t in PSEUDO_COLUMNS.items()]
        if source.kind == "view":
            fields = self._view(source)
        return fields, ("awsdatacatalog", source.database.lower(), source.name.lower())

    def _view(self, source: object) -> list[Field]:
        from local_aws.athena.sql.analysis import analyze_view

        if self.ctx.view_depth > 16:
            raise QueryFailed("VIEW_IS_RECURSIVE", "View is recursive")
        return analyze_view(self.ctx, source)  # type: ignore[arg-type]

    def values(self, node: exp.Values, parent: Scope | None) -> list[Field]:
        rows = [list(r.expressions) if isinstance(r, exp.Tuple) else [r] for r in node.expressions]
        width = len(rows[0])
        scope = Scope([], parent)
        for row in rows:
            if len(row) != width:
                raise QueryFailed(
                    "TYPE_MISMATCH",
                    f"Values rows have mismatched sizes: {width} vs {len(row)}",
                    position=self.pos(node),
                )
            for cell in row:
                self.queries.expressions.type(cell, scope)
        fields = []
        for i in range(width):
            column = [row[i] for row in rows]
            common = super_type_of([c.meta["t"] for c in column])
            if common is None:
                shown = ", ".join(dict.fromkeys(c.meta["t"].display() for c in column))
                raise QueryFailed(
                    "TYPE_MISMATCH", f"Values rows have mismatched types: {shown}", position=self.pos(node)
                )
            for cell in column:
                coerce(cell, common)
            fields.append(Field(f"_col{i}", common))
        return fields

    def _unnest(self, node: exp.Unnest, scope: Scope) -> list[Field]:
        fields: list[Field] = []
        kinds: list[str] = []
        for arg in node.expressions:
            t = self.queries.expressions.type(arg, scope)
            if t.base == "array" and t.element.base == "row":
                kinds.append("rows")
                fields += [Field(None, ft) for _, ft in t.element.fields]
            elif t.base == "array":
                kinds.append("array")
                fields.append(Field(None, t.element))
            elif t.base == "map":
                kinds.append("map")
                fields += [Field(None, t.key), Field(None, t.value)]
            elif t.is_unknown:
                kinds.append("array")
                fields.append(Field(None, T.UNKNOWN))
            else:
                raise QueryFailed("TYPE_MISMATCH", f"Cannot unnest type: {t}", position=self.pos(arg))
        node.meta[UNNEST_KINDS] = kinds
        ordinality = node.args.get("offset")
        if ordinality not in (None, False):
            fields.append(Field(None, T.BIGINT))
        aliases = node.args.get("alias")
        names = [c.name.lower() for c in aliases.columns] if aliases is not None else []
        if ordinality is not None and isinstance(ordinality, exp.Identifier) and len(names) == len(fields) - 1:
            names.append(ordinality.name.lower())
        if names:
            if len(names) != len(fields):
                raise QueryFailed(
                    "MISMATCHED_COLUMN_ALIASES",
                    f"Column alias list has {len(names)} entries but relation has {len(fields)} columns available",
                    position=self.pos(aliases),
                )
            fields = [Field(n, f.type) for n, f in zip(names, fields, strict=True)]
            if aliases is not None:
                aliases.set("columns", [exp.to_identifier(n) for n in names])
        set_type(node, T.row([(f.name, f.type) for f in fields]))
        return fields
