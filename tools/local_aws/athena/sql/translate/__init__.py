"""Analyzed Trino SQL -> DuckDB SQL: ``expressions`` (operators, literals, calls), ``casts`` (Trino's
conversions), ``intervals`` (interval literals) and ``queries`` (SELECT, FROM items, set operations).

:func:`translate_query` returns the DuckDB SQL and the catalog tables the engine must bind to temp views
(``__athena_tN``) before running it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from local_aws.athena.errors import not_supported
from local_aws.athena.sql.translate.queries import QueryTranslator, TableBinding

WRITE = "duckdb"
# sqlglot loads a dialect on first use, which takes about a second without compiled bytecode: load it
# when the endpoint starts, not in its first query.
Dialect.get_or_raise(WRITE)


@dataclass
class Translation:
    sql: str
    tables: list[TableBinding]


def _generate(tree: exp.Expression) -> str:
    try:
        return tree.sql(dialect=WRITE)
    except Exception as err:  # sqlglot UnsupportedError and friends
        raise not_supported(f"This query ({err})") from err


def translate_query(tree: exp.Expression) -> Translation:
    """DuckDB SQL for an analyzed query tree."""
    translator = QueryTranslator()
    return Translation(_generate(translator.tr(tree)), translator.tables)


def translate_expression(node: exp.Expression) -> str:
    """DuckDB SQL for an analyzed expression, its columns unqualified (partition pruning)."""
    return _generate(QueryTranslator(qualify=False).tr(node))


__all__ = ["TableBinding", "Translation", "translate_expression", "translate_query"]
