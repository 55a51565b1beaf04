"""The Trino dialect the analyzer reads: sqlglot's Athena/Trino parser with every function call kept by name.

Why: sqlglot's own Trino parser turns many calls into its generic expression classes (``cardinality``
into ``ArraySize``, ``element_at`` into a bracket, ``date_add`` into an interval addition), losing the
name Trino resolves. Here a call stays ``Anonymous(name, args)`` so the analyzer looks it up in one
function library with Trino's signatures; only syntax that is not a plain call keeps its node (CAST,
TRY_CAST, EXTRACT, POSITION, TRIM, SUBSTRING ... FROM, NORMALIZE, CASE). Subscripts keep Trino's
1-based index as written (``INDEX_OFFSET = 0``), and type-introduced literals (``DECIMAL '1.50'``,
``TIMESTAMP '...'``) are marked so they are typed as literals, not as casts.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.parsers.athena import AthenaTrinoParser
from sqlglot.parsers.trino import TrinoParser

TYPE_LITERAL = "type_literal"  # meta key on a Cast written as ``<type> '<text>'``

_SYNTAX_FUNCTIONS = {"CAST", "TRY_CAST", "EXTRACT", "POSITION", "SUBSTRING", "TRIM", "NORMALIZE"}


def _mark_literal(parser: Any, this: exp.Expression, to: exp.DataType) -> exp.Expression:
    node = parser.expression(exp.Cast(this=this, to=to))
    node.meta[TYPE_LITERAL] = True
    return node


def _temporal_literal(parser: Any, this: exp.Expression, to: exp.DataType) -> exp.Expression:
    node = TrinoParser._parse_temporal_literal(parser, this, to)
    node.meta[TYPE_LITERAL] = True
    return node


def _json_literal(parser: Any, this: exp.Expression, to: exp.DataType) -> exp.Expression:
    return _mark_literal(parser, this, to)


class LocalTrinoParser(AthenaTrinoParser):
    FUNCTIONS: dict[str, Any] = {}
    FUNCTION_PARSERS = {k: v for k, v in TrinoParser.FUNCTION_PARSERS.items() if k in _SYNTAX_FUNCTIONS}
    NO_PAREN_FUNCTION_PARSERS = {k: v for k, v in TrinoParser.NO_PAREN_FUNCTION_PARSERS.items() if k == "CASE"}
    TYPE_LITERAL_PARSERS = {
        **dict.fromkeys(exp.DType, _mark_literal),
        **dict.fromkeys(
            (exp.DType.TIMESTAMP, exp.DType.TIMESTAMPTZ, exp.DType.TIME, exp.DType.TIMETZ), _temporal_literal
        ),
        exp.DType.JSON: _json_literal,
    }


class LocalTrino(Trino):
    INDEX_OFFSET = 0
    Parser = LocalTrinoParser
