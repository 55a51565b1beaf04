"""What the analyzer is given: the statement's text (for ``line L:C`` positions), the default database,
and the catalog as :class:`Source` objects (a Glue table, a view, an information_schema table).

Analysis results live on the tree itself, in each node's ``meta``: ``t`` (its Trino type), ``coerce``
(the type the translator must cast it to), ``ref`` (what a column names), ``call`` (a resolved function)
and ``source`` (a table reference's :class:`Source`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlglot import exp

from local_aws.athena.sql.analysis.scope import Field
from local_aws.athena.sql.types import TrinoType

TYPE, COERCE, REF, CALL, SOURCE = "t", "coerce", "ref", "call", "source"


@dataclass
class Source:
    """A catalog object a FROM clause names."""

    kind: str  # "table", "view" or "system" (information_schema)
    database: str
    name: str
    columns: list[Field]
    info: Any = None  # the Glue TableInfo of a table
    view_sql: str | None = None
    view_tree: exp.Expression | None = None  # the analyzed view query (set by the analyzer)
    pseudo: set[str] = field(default_factory=set)  # hidden columns the query uses

    def __deepcopy__(self, memo: dict[int, Any]) -> Source:
        return self


class Sources(Protocol):
    def lookup(self, table: exp.Table, database: str | None, position: tuple[int, int] | None) -> Source: ...


class Context:
    def __init__(self, sql: str, sources: Sources, database: str | None) -> None:
        self.sql = sql
        self.sources = sources
        self.database = database
        self.view_depth = 0

    def position(self, node: exp.Expression | None) -> tuple[int, int] | None:
        """1-based (line, column) where ``node`` starts in the statement, when the parser recorded it."""
        if node is None:
            return None
        start = None
        for n in node.walk():
            value = n.meta.get("start") if n.meta else None
            if value is not None and (start is None or value < start):
                start = value
        if start is None or start > len(self.sql):
            return None
        line = self.sql.count("\n", 0, start) + 1
        column = start - (self.sql.rfind("\n", 0, start) + 1) + 1
        return line, column


def type_of(node: exp.Expression) -> TrinoType:
    return node.meta[TYPE]


def set_type(node: exp.Expression, t: TrinoType) -> TrinoType:
    node.meta[TYPE] = t
    return t


def coerce(node: exp.Expression, target: TrinoType) -> None:
    """Record that ``node`` is used as ``target`` (the translator casts when the value must change)."""
    current = node.meta.get(TYPE)
    if current is None or current != target or current.zone != target.zone:
        node.meta[COERCE] = target
