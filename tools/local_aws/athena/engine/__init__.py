"""Execute one Athena statement: DuckDB over Glue-registered partitions, plus DDL, CTAS and INSERT.

The modules, one kind of statement each: ``query`` (SELECT: analyze, translate, run, over ``scans`` of
the tables' Parquet files and ``information_schema``), ``ddl`` (CREATE/DROP/ALTER/MSCK through Glue),
``views`` (CREATE/DROP VIEW), ``writes`` (CTAS, INSERT INTO), ``utility`` (SHOW, DESCRIBE); ``sources``
shows the catalog to the analyzer, ``resolve`` names tables with Athena's errors, ``database`` is the
DuckDB database with the function library and ``duckdb_errors`` maps DuckDB's errors to Trino's names.
:class:`Engine` only dispatches.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.catalog import Catalog
from local_aws.athena.engine import ddl, utility, views, writes
from local_aws.athena.engine.context import QueryContext, Result
from local_aws.athena.engine.query import QueryRunner
from local_aws.athena.errors import not_supported, syntax_error
from local_aws.athena.sql.parse import parse_statement, strip_comments, substitute_parameters

# Statements Athena runs that sqlglot leaves as commands (EXPLAIN, PREPARE, UNLOAD, SHOW CREATE TABLE ...)
_ATHENA_COMMANDS = {
    "EXPLAIN", "PREPARE", "EXECUTE", "DEALLOCATE", "UNLOAD", "OPTIMIZE", "VACUUM", "SHOW", "DESCRIBE",
    "ALTER", "MSCK", "CREATE", "DROP", "USE",
}  # fmt: skip
# Statements Athena has (UPDATE/DELETE/MERGE on Iceberg tables, USE, SET SESSION ...) that this endpoint
# does not run; any other parse result is an expression, not a statement.
_OTHER_STATEMENTS = (
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Set,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Alter,
)
# Statements sqlglot does not parse the way Athena (Hive DDL) means them, matched on the text.
PATTERN_STATEMENTS = (*ddl.STATEMENTS, *utility.STATEMENTS)


class Engine:
    """Statement dispatcher over one :class:`Catalog`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.queries = QueryRunner(catalog)

    def execute(self, raw_sql: str, ctx: QueryContext) -> Result:
        sql_text = substitute_parameters(raw_sql, ctx.parameters)
        body = strip_comments(sql_text).rstrip(";").strip()
        for pattern, handler in PATTERN_STATEMENTS:
            match = pattern.match(body)
            if match is not None:
                return handler(self.catalog, match, ctx)
        tree = parse_statement(sql_text)
        if isinstance(tree, exp.Create):
            kind = (tree.args.get("kind") or "").upper()
            if kind in ("DATABASE", "SCHEMA"):
                return ddl.create_database(self.catalog, tree)
            if kind == "TABLE" and tree.args.get("expression") is not None:
                return writes.ctas(self.catalog, self.queries, tree, sql_text, ctx)
            if kind == "TABLE":
                return ddl.create_table(self.catalog, tree, ctx)
            if kind == "VIEW":
                query_sql = views.view_sql_of(sql_text)
                analysis = self.queries.analyze(tree.expression, sql_text, ctx)
                return views.create_view(self.catalog, tree, query_sql, analysis.fields, ctx)
            raise not_supported(f"CREATE {kind}")
        if isinstance(tree, exp.Drop):
            if (tree.args.get("kind") or "").upper() == "VIEW":
                return views.drop_view(self.catalog, tree, ctx)
            return ddl.drop(self.catalog, tree, ctx)
        if isinstance(tree, exp.Insert):
            return writes.insert(self.catalog, self.queries, tree, sql_text, ctx)
        if isinstance(tree, exp.Describe):
            return utility.describe(self.catalog, tree, ctx)
        if isinstance(tree, exp.Query):
            return self.queries.rows(tree, sql_text, ctx)
        if isinstance(tree, exp.Command):
            rest = tree.args.get("expression")
            rest_text = rest.name if isinstance(rest, exp.Expression) else str(rest or "")
            words = [tree.name, *rest_text.split()[:1]] if tree.name else [""]
            if words[0].upper() in _ATHENA_COMMANDS:
                raise not_supported(" ".join(w.upper() for w in words) + " statements")
            raise syntax_error(f"mismatched input '{words[0]}'. Expecting: statement", (1, 1))
        if isinstance(tree, _OTHER_STATEMENTS):
            raise not_supported(f"{type(tree).__name__.upper()} statements")
        raise syntax_error(f"mismatched input '{tree.sql(dialect='trino')[:40]}'. Expecting: statement", (1, 1))
