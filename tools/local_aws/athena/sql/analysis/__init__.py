"""The analysis step, as Trino has one before execution: every name resolved against the Glue catalog,
every expression typed with Trino's types, and what Trino rejects rejected with Athena's error names.

:func:`analyze_query` takes a parsed query (the ``dialect`` tree) and returns its output columns; the
tree comes back annotated (see ``context``) for the translator. ``reads`` holds what the engine needs to
bind tables (which catalog tables a statement reads, the WHERE conjuncts that prune partitions).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.analysis.context import Context, Source, Sources
from local_aws.athena.sql.analysis.desugar import desugar
from local_aws.athena.sql.analysis.queries import QueryAnalyzer
from local_aws.athena.sql.analysis.scope import Field
from local_aws.athena.sql.dialect import LocalTrino


@dataclass
class Analysis:
    """A query's output columns (name or None, Trino type) and its analyzed tree."""

    fields: list[Field]
    tree: exp.Expression

    @property
    def names(self) -> list[str]:
        return [f.name if f.name is not None else f"_col{i}" for i, f in enumerate(self.fields)]


def analyze_query(tree: exp.Expression, sql: str, sources: Sources, database: str | None) -> Analysis:
    """Analyze a query (SELECT, set operation, VALUES, WITH ...), in place; its output columns."""
    tree = desugar(tree)
    ctx = Context(sql, sources, database)
    fields = QueryAnalyzer(ctx).query(tree, None)
    return Analysis(fields, tree)


def analyze_view(outer: Context, source: Source) -> list[Field]:
    """Expand a view: its SQL analyzed in its own database; the tree is kept on ``source`` for translation."""
    assert source.view_sql is not None
    try:
        tree = sqlglot.parse_one(source.view_sql, dialect=LocalTrino)
    except (ParseError, TokenError) as err:
        raise QueryFailed("VIEW_IS_STALE", f"View '{source.database}.{source.name}' cannot be parsed: {err}") from err
    tree = desugar(tree)
    ctx = Context(source.view_sql, outer.sources, source.database)
    ctx.view_depth = outer.view_depth + 1
    fields = QueryAnalyzer(ctx).query(tree, None)
    source.view_tree = tree
    return [Field(f.name, f.type) for f in fields]


__all__ = ["Analysis", "Context", "Field", "Source", "Sources", "analyze_query", "analyze_view"]
