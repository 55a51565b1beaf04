"""Analyzed Trino queries -> DuckDB queries: the select list spelled out (``*`` expanded, every column
named as Trino names it), catalog tables bound to the engine's temp views, views inlined as subqueries,
UNNEST as a lateral subquery of DuckDB's unnest (arrays of rows expanded into fields, maps into key and
value), set operation branches cast to their common types, and FETCH FIRST ... WITH TIES as a rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from local_aws.athena.sql.analysis.context import SOURCE, Source
from local_aws.athena.sql.analysis.reads import partition_conjuncts
from local_aws.athena.sql.analysis.relations import UNNEST_KINDS
from local_aws.athena.sql.library.duck import fn, lit
from local_aws.athena.sql.translate.casts import convert
from local_aws.athena.sql.translate.expressions import ExpressionTranslator, type_of


@dataclass
class TableBinding:
    """A catalog table the query reads: the engine creates ``view`` over its files before running."""

    view: str
    source: Source
    conjuncts: list[exp.Expression] = field(default_factory=list)


class QueryTranslator(ExpressionTranslator):
    def __init__(self, qualify: bool = True) -> None:
        super().__init__(qualify)
        self.tables: list[TableBinding] = []

    # ------------------------------------------------------------------ SELECT
    def _tr_select(self, node: exp.Select) -> exp.Expression:
        out = self.rebuild(node)
        items = node.meta.get("items")
        if items is not None:
            out.set(
                "expressions",
                [exp.alias_(self.tr(expr), name or f"_col{i}", quoted=True) for i, (name, expr) in enumerate(items)],
            )
        fetch = node.args.get("limit")
        if isinstance(fetch, exp.Fetch):
            options = fetch.args.get("limit_options")
            if options is not None and options.args.get("with_ties"):
                self._with_ties(node, out, fetch)
        return out

    def _with_ties(self, node: exp.Select, out: exp.Select, fetch: exp.Fetch) -> None:
        """FETCH FIRST n ROWS WITH TIES: the rows whose rank by the ORDER BY is at most n."""
        items = node.meta.get("items") or []
        names = {name: expr for name, expr in items if name}
        keys = []
        for ordered in node.args["order"].expressions:
            expr = ordered.this
            if isinstance(expr, exp.Literal) and expr.is_int:
                target = self.tr(items[int(expr.this) - 1][1])
            elif (
                isinstance(expr, exp.Column) and expr.meta.get("ref") is not None and expr.meta["ref"].kind == "output"
            ):
                target = self.tr(names[expr.meta["ref"].name])
            else:
                target = self.tr(expr)
            keys.append(
                exp.Ordered(this=target, desc=ordered.args.get("desc"), nulls_first=ordered.args.get("nulls_first"))
            )
        rank = exp.Window(this=fn("rank"), order=exp.Order(expressions=keys))
        count = fetch.args.get("count") or lit(1)
        out.set("limit", None)
        out.set("qualify", exp.Qualify(this=exp.LTE(this=rank, expression=count.copy())))

    # ------------------------------------------------------------------ set operations and VALUES
    def _set_operation(self, node: exp.SetOperation) -> exp.Expression:
        out = self.rebuild(node)
        types = node.meta.get("column_types")
        if types:
            for key in ("this", "expression"):
                out.set(key, self._cast_branch(node.args[key], out.args[key], types))
        return out

    _tr_union = _tr_intersect = _tr_except = _set_operation

    def _cast_branch(self, branch: exp.Expression, translated: exp.Expression, types: list) -> exp.Expression:
        fields = branch.meta.get("fields") or []
        if len(fields) != len(types) or all(f.type == t for f, t in zip(fields, types, strict=True)):
            return translated
        names = [f"_b{i}" for i in range(len(types))]
        projections = [
            exp.alias_(convert(exp.column(n, quoted=True), f.type, t), f.name or f"_col{i}", quoted=True)
            for i, (n, f, t) in enumerate(zip(names, fields, types, strict=True))
        ]
        inner = exp.Subquery(
            this=translated if not isinstance(translated, exp.Subquery) else translated.this,
            alias=exp.TableAlias(
                this=exp.to_identifier("_branch"), columns=[exp.to_identifier(n, quoted=True) for n in names]
            ),
        )
        return exp.select(*projections).from_(inner)

    # ------------------------------------------------------------------ FROM items
    def _tr_table(self, node: exp.Table) -> exp.Expression:
        source: Source | None = node.meta.get(SOURCE)
        alias = node.alias or node.name
        if source is None:  # a CTE
            return exp.Table(this=exp.to_identifier(node.name), alias=self._alias(node, alias))
        if source.kind == "view":
            assert source.view_tree is not None
            return exp.Subquery(this=self.tr(source.view_tree), alias=self._alias(node, alias))
        view = f"__athena_t{len(self.tables)}"
        keys = source.info.partition_names if source.kind == "table" and source.info is not None else []
        self.tables.append(TableBinding(view, source, partition_conjuncts(node, keys) if keys else []))
        return exp.Table(this=exp.to_identifier(view), alias=self._alias(node, alias))

    @staticmethod
    def _alias(node: exp.Expression, name: str) -> exp.TableAlias:
        original = node.args.get("alias")
        columns = [c.copy() for c in original.columns] if original is not None else []
        return exp.TableAlias(this=exp.to_identifier(name.lower(), quoted=True), columns=columns)

    def _tr_unnest(self, node: exp.Unnest) -> exp.Expression:
        kinds = node.meta[UNNEST_KINDS]
        row = type_of(node)
        inner_items: list[exp.Expression] = []
        outer_items: list[exp.Expression] = []
        lengths: list[exp.Expression] = []
        for i, (arg, kind) in enumerate(zip(node.expressions, kinds, strict=True)):
            value = self.tr(arg)
            name = f"__u{i}"
            if kind == "map":
                inner_items.append(exp.alias_(fn("unnest", fn("map_keys", value)), f"{name}k", quoted=True))
                inner_items.append(exp.alias_(fn("unnest", fn("map_values", value.copy())), f"{name}v", quoted=True))
                outer_items += [exp.column(f"{name}k", quoted=True), exp.column(f"{name}v", quoted=True)]
                lengths.append(fn("cardinality", value.copy()))
                continue
            inner_items.append(exp.alias_(fn("unnest", value), name, quoted=True))
            lengths.append(fn("len", value.copy()))
            if kind == "rows":
                width = len(type_of(arg).element.fields)
                outer_items += [
                    fn("struct_extract_at", exp.column(name, quoted=True), lit(j + 1)) for j in range(width)
                ]
            else:
                outer_items.append(exp.column(name, quoted=True))
        offset = node.args.get("offset")
        if offset not in (None, False):
            longest = lengths[0] if len(lengths) == 1 else fn("greatest", *lengths)
            counter = fn("unnest", fn("range", lit(1), exp.Add(this=longest, expression=lit(1))))
            inner_items.append(exp.alias_(counter, "__ord", quoted=True))
            outer_items.append(exp.column("__ord", quoted=True))
        names = [name or f"_col{i}" for i, (name, _) in enumerate(row.fields)]
        projections = [exp.alias_(e, n, quoted=True) for e, n in zip(outer_items, names, strict=True)]
        inner = exp.Subquery(this=exp.select(*inner_items), alias=exp.TableAlias(this=exp.to_identifier("__unnest")))
        alias_node = node.args.get("alias")
        alias = alias_node.name if alias_node is not None and alias_node.name else "__unnested"
        return exp.Subquery(
            this=exp.select(*projections).from_(inner),
            alias=exp.TableAlias(this=exp.to_identifier(alias.lower(), quoted=True)),
        )
