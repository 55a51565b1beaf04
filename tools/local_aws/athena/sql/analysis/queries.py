"""Analyzing queries: WITH, set operations, VALUES and SELECT with its clauses, in Trino's order.

Each query's output is a list of :class:`~.scope.Field` (name or None, type), stored on the node as
``meta['fields']``. FROM items are analyzed by ``relations``; expressions by ``expressions``; the
aggregation rules by ``grouping``.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.errors import QueryFailed, not_supported
from local_aws.athena.sql.analysis import grouping
from local_aws.athena.sql.analysis.context import REF, Context, coerce, type_of
from local_aws.athena.sql.analysis.expressions import ExpressionAnalyzer
from local_aws.athena.sql.analysis.relations import RelationAnalyzer
from local_aws.athena.sql.analysis.scope import ColumnRef, Field, Relation, Scope
from local_aws.athena.sql.coercion import super_type

FIELDS = "fields"
_SET_NAMES = {exp.Union: "UNION", exp.Intersect: "INTERSECT", exp.Except: "EXCEPT"}
# SELECT clauses the analyzer knows; any other (MATCH_RECOGNIZE, ...) fails loudly rather than be ignored
_SELECT_CLAUSES = {
    "expressions", "from_", "from", "joins", "where", "group", "having", "order", "limit", "offset",
    "distinct", "with_", "with", "windows", "kind",
}  # fmt: skip


class QueryAnalyzer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.expressions = ExpressionAnalyzer(ctx, self.query)
        self.relations = RelationAnalyzer(ctx, self)
        self.ctes: list[dict[str, list[Field]]] = []

    def pos(self, node: exp.Expression | None) -> tuple[int, int] | None:
        return self.ctx.position(node)

    def cte(self, name: str) -> list[Field] | None:
        for frame in reversed(self.ctes):
            if name in frame:
                return frame[name]
        return None

    # ------------------------------------------------------------------ queries
    def query(self, node: exp.Expression, parent: Scope | None) -> list[Field]:
        """The output fields of a query (``parent``: the enclosing scope, for correlated references)."""
        if isinstance(node, exp.Subquery):
            fields = self.query(node.this, parent)
            node.meta[FIELDS] = fields
            return fields
        with_ = node.args.get("with_") or node.args.get("with")
        if with_ is not None:
            self.ctes.append(self._with(with_, parent))
        try:
            if isinstance(node, exp.Select):
                fields = self._select(node, parent)
            elif isinstance(node, exp.SetOperation):
                fields = self._set_operation(node, parent)
            elif isinstance(node, exp.Values):
                fields = self.relations.values(node, parent)
            else:
                shown = node.sql(dialect="trino")[:40]
                raise QueryFailed(
                    "SYNTAX_ERROR", f"mismatched input '{shown}'. Expecting: <query>", position=self.pos(node)
                )
        finally:
            if with_ is not None:
                self.ctes.pop()
        node.meta[FIELDS] = fields
        return fields

    def _with(self, with_: exp.With, parent: Scope | None) -> dict[str, list[Field]]:
        if with_.args.get("recursive"):
            raise not_supported("WITH RECURSIVE")
        frame: dict[str, list[Field]] = {}
        self.ctes.append(frame)
        try:
            for cte in with_.expressions:
                name = cte.alias_or_name.lower()
                if name in frame:
                    raise QueryFailed(
                        "DUPLICATE_NAMED_QUERY",
                        f"WITH query name '{name}' specified more than once",
                        position=self.pos(cte),
                    )
                fields = self.query(cte.this, parent)
                aliases = [c.name.lower() for c in (cte.args["alias"].columns if cte.args.get("alias") else [])]
                if aliases:
                    if len(aliases) != len(fields):
                        raise QueryFailed(
                            "MISMATCHED_COLUMN_ALIASES",
                            f"WITH column alias list has {len(aliases)} entries but WITH query({name}) has "
                            f"{len(fields)} columns",
                            position=self.pos(cte),
                        )
                    fields = [Field(a, f.type) for a, f in zip(aliases, fields, strict=True)]
                frame[name] = fields
        finally:
            self.ctes.pop()
        return frame

    def _set_operation(self, node: exp.SetOperation, parent: Scope | None) -> list[Field]:
        left = self.query(node.this, parent)
        right = self.query(node.expression, parent)
        name = _SET_NAMES.get(type(node), "UNION")
        if len(left) != len(right):
            raise QueryFailed(
                "TYPE_MISMATCH",
                f"{name} query has different number of fields: {len(left)}, {len(right)}",
                position=self.pos(node),
            )
        fields = []
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            common = super_type(a.type, b.type)
            if common is None:
                raise QueryFailed(
                    "TYPE_MISMATCH",
                    f"column {i + 1} in {name} query has incompatible types: {a.type}, {b.type}",
                    position=self.pos(node),
                )
            fields.append(Field(a.name, common))
        node.meta["column_types"] = [f.type for f in fields]
        outputs = Relation(None, [f for f in fields if f.name is not None])
        self._order_limit(node, Scope([], parent, outputs=outputs), fields, outputs, grouped=None)
        return fields

    # ------------------------------------------------------------------ SELECT
    def _select(self, node: exp.Select, parent: Scope | None) -> list[Field]:
        for clause, value in node.args.items():
            if value and clause not in _SELECT_CLAUSES:
                raise not_supported({"match": "MATCH_RECOGNIZE"}.get(clause, clause.upper()), self.pos(node))
        if not node.expressions:
            raise QueryFailed(
                "SYNTAX_ERROR", "mismatched input '<EOF>'. Expecting: <select item>", position=self.pos(node)
            )
        relations, using = self.relations.from_clause(node, parent)
        scope = Scope(relations, parent, using=using)
        for window in node.args.get("windows") or []:  # WINDOW w AS (PARTITION BY ... ORDER BY ...)
            for part in [
                *(window.args.get("partition_by") or []),
                *(o.this for o in (window.args.get("order") or exp.Order()).expressions),
            ]:
                self.expressions.type(part, scope)
        where = node.args.get("where")
        if where is not None:
            self.expressions.boolean(where.this, scope, "WHERE clause must evaluate to a boolean: actual type {}")
            grouping.require_scalar(where.this, "WHERE", self.ctx)
        items = self._select_items(node, scope, relations, using)
        keys = self._group_by(node, scope, items)
        having = node.args.get("having")
        if having is not None:
            self.expressions.boolean(having.this, scope, "HAVING clause must evaluate to a boolean: actual type {}")
        fields = [Field(name, type_of(expr)) for name, expr in items]
        outputs = Relation(None, [f for f in fields if f.name is not None])
        order_scope = Scope(relations, parent, using=using, outputs=outputs)
        order_exprs = self._order_limit(node, order_scope, fields, outputs, grouped=keys)
        aggregated = keys is not None or any(
            grouping.aggregates_in(e)
            for e in [expr for _, expr in items] + ([having.this] if having else []) + order_exprs
        )
        for _, expr in items:
            grouping.check_nesting(expr, self.ctx)
        if aggregated:
            key_set = keys or set()
            for _, expr in items:
                grouping.check_grouped(expr, key_set, self.ctx)
            if having is not None:
                grouping.check_grouped(having.this, key_set, self.ctx)
            for expr in order_exprs:
                grouping.check_grouped(expr, key_set, self.ctx)
        elif having is not None:
            grouping.check_grouped(having.this, set(), self.ctx)
        if node.args.get("distinct") is not None and order_exprs:
            selected = {grouping.canonical(expr) for _, expr in items}
            for expr in order_exprs:
                if grouping.canonical(expr) not in selected:
                    raise QueryFailed(
                        "EXPRESSION_NOT_IN_DISTINCT",
                        "For SELECT DISTINCT, ORDER BY expressions must appear in select list",
                        position=self.pos(expr),
                    )
        node.meta["items"] = items
        return fields

    def _select_items(
        self, node: exp.Select, scope: Scope, relations: list[Relation], using: dict
    ) -> list[tuple[str | None, exp.Expression]]:
        """(output name, expression) per output column, ``*`` expanded into column references."""
        items: list[tuple[str | None, exp.Expression]] = []
        for projection in node.expressions:
            if isinstance(projection, exp.Star) or (
                isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
            ):
                items.extend(self._expand_star(projection, relations, using))
                continue
            expr, name = projection, None
            if isinstance(projection, exp.Alias):
                expr, name = projection.this, projection.alias.lower()
            self.expressions.type(expr, scope)
            if name is None:
                name = _implicit_name(expr)
            items.append((name, expr))
        return items

    def _expand_star(
        self, star: exp.Expression, relations: list[Relation], using: dict
    ) -> list[tuple[str | None, exp.Expression]]:
        if isinstance(star, exp.Column):
            prefix = [p.name.lower() for p in star.parts[:-1]]
            chosen = [r for r in relations if r.matches(prefix)]
            if not chosen:
                raise QueryFailed("TABLE_NOT_FOUND", f"Table '{'.'.join(prefix)}' not found", position=self.pos(star))
        else:
            chosen = relations
            if not relations:
                raise QueryFailed(
                    "SYNTAX_ERROR", "SELECT * not allowed in queries without FROM clause", position=self.pos(star)
                )
        out: list[tuple[str | None, exp.Expression]] = []
        seen_using = set()
        for relation in chosen:
            for index, f in enumerate(relation.fields):
                if f.hidden:
                    continue
                column = exp.column(f.name or f"_col{index}")
                if f.name in using and not isinstance(star, exp.Column):
                    if f.name in seen_using:
                        continue
                    seen_using.add(f.name)
                    column.meta[REF] = ColumnRef("using", None, f.name, [])
                    column.meta["t"] = using[f.name]
                else:
                    column.meta[REF] = ColumnRef("field", relation, f.name or f"_col{index}", [])
                    column.meta["t"] = f.type
                out.append((f.name, column))
        return out

    def _group_by(self, node: exp.Select, scope: Scope, items: list) -> set[str] | None:
        group = node.args.get("group")
        if group is None:
            return None
        keys: set[str] = set()
        for expr in _grouping_expressions(group):
            if isinstance(expr, exp.Literal) and expr.is_int:
                ordinal = int(expr.this)
                if not 1 <= ordinal <= len(items):
                    raise QueryFailed(
                        "INVALID_COLUMN_REFERENCE",
                        f"GROUP BY position {ordinal} is not in select list",
                        position=self.pos(expr),
                    )
                target = items[ordinal - 1][1]
                grouping.require_scalar(target, "GROUP BY", self.ctx)
                keys.add(grouping.canonical(target))
                continue
            self.expressions.type(expr, scope)
            grouping.require_scalar(expr, "GROUP BY", self.ctx)
            keys.add(grouping.canonical(expr))
        return keys

    def _order_limit(
        self, node: exp.Expression, order_scope: Scope, fields: list[Field], outputs: Relation, grouped: set[str] | None
    ) -> list[exp.Expression]:
        """Type ORDER BY (output names and ordinals first) and check LIMIT/OFFSET/FETCH; the ORDER BY
        expressions that are not output references, for the grouping checks."""
        plain: list[exp.Expression] = []
        order = node.args.get("order")
        for ordered in order.expressions if order is not None else []:
            expr = ordered.this
            if isinstance(expr, exp.Literal) and expr.is_int:
                ordinal = int(expr.this)
                if not 1 <= ordinal <= len(fields):
                    raise QueryFailed(
                        "INVALID_COLUMN_REFERENCE",
                        f"ORDER BY position {ordinal} is not in select list",
                        position=self.pos(expr),
                    )
                continue
            self.expressions.type(expr, order_scope)
            if isinstance(expr, exp.Column) and expr.meta[REF].kind == "output":
                continue
            plain.append(expr)
        fetch = node.args.get("limit")
        if isinstance(fetch, exp.Fetch):
            options = fetch.args.get("limit_options")
            if options is not None and options.args.get("with_ties") and order is None:
                raise QueryFailed(
                    "MISSING_ORDER_BY", "FETCH FIRST WITH TIES clause requires ORDER BY", position=self.pos(fetch)
                )
        return plain


def _implicit_name(expr: exp.Expression) -> str | None:
    if isinstance(expr, exp.Column):
        ref = expr.meta.get(REF)
        return ref.path[-1] if ref is not None and ref.path else expr.name.lower()
    if isinstance(expr, exp.Dot):
        return expr.expression.name.lower()
    return None


def _grouping_expressions(group: exp.Group) -> list[exp.Expression]:
    out: list[exp.Expression] = []

    def add(node: exp.Expression) -> None:
        if isinstance(node, (exp.Rollup, exp.Cube, exp.GroupingSets, exp.Tuple)):
            for child in node.expressions:
                add(child)
        elif isinstance(node, exp.Paren):
            add(node.this)
        else:
            out.append(node)

    for key in ("expressions", "grouping_sets", "cube", "rollup"):
        for node in group.args.get(key) or []:
            add(node)
    return out


__all__ = ["FIELDS", "QueryAnalyzer", "coerce"]
