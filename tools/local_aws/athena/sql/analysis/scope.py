"""Name resolution: which relation and column a name refers to, as Trino's analyzer decides.

A :class:`Scope` is one query level's relations (its FROM clause) plus the enclosing scopes
(correlated subqueries) and the parameters of the lambdas being analyzed. ``a.b.c`` is tried as a
qualified relation (``db.table`` or an alias) followed by a column, then as a column followed by row
field dereferences; a name found in two relations of the same level is AMBIGUOUS_NAME, a name found
nowhere COLUMN_NOT_FOUND, with the position of the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql.types import TrinoType

PSEUDO = "pseudo"  # Field.origin of a hidden column ("$path", ...)


@dataclass
class Field:
    name: str | None
    type: TrinoType
    hidden: bool = False

    def __deepcopy__(self, memo: dict[int, Any]) -> Field:
        return self


@dataclass(eq=False)
class Relation:
    """One FROM item: a table, view, CTE, subquery, VALUES or UNNEST, as the query sees it."""

    alias: str | None
    fields: list[Field]
    qualified: tuple[str, ...] = ()  # a table without alias: (catalog, schema, table)
    node: exp.Expression | None = None
    pseudo_used: set[str] = field(default_factory=set)

    def __deepcopy__(self, memo: dict[int, Any]) -> Relation:  # shared by copies of the analyzed tree
        return self

    def matches(self, prefix: list[str]) -> bool:
        if self.alias is not None:
            return prefix == [self.alias]
        return bool(self.qualified) and tuple(prefix) == self.qualified[-len(prefix) :]

    def named(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]

    def visible(self) -> list[Field]:
        return [f for f in self.fields if not f.hidden]


@dataclass
class ColumnRef:
    """What a Column node refers to (``Column.meta['ref']``), for the translator."""

    kind: str  # "field", "lambda", "using", "output"
    relation: Relation | None
    name: str
    path: list[str]  # row fields dereferenced after the column
    depth: int = 0  # 0: this query level; >0: an enclosing query (correlated)

    def __deepcopy__(self, memo: dict[int, Any]) -> ColumnRef:
        return self


class Scope:
    def __init__(
        self,
        relations: list[Relation],
        parent: Scope | None = None,
        lambdas: dict[str, TrinoType] | None = None,
        using: dict[str, TrinoType] | None = None,
        outputs: Relation | None = None,
    ) -> None:
        self.relations = relations
        self.parent = parent
        self.lambdas = lambdas or {}
        self.using = using or {}
        self.outputs = outputs  # ORDER BY: the select list's named columns, looked up first

    def with_lambdas(self, params: dict[str, TrinoType]) -> Scope:
        return Scope(self.relations, self.parent, {**self.lambdas, **params}, self.using, self.outputs)

    def resolve(
        self, parts: list[str], node: exp.Expression, position: tuple[int, int] | None
    ) -> tuple[ColumnRef, TrinoType]:
        scope: Scope | None = self
        depth = 0
        while scope is not None:
            found = scope._resolve_here(parts, position)
            if found is not None:
                ref, t = found
                ref.depth = depth
                return ref, t
            scope = scope.parent
            depth += 1
        raise QueryFailed("COLUMN_NOT_FOUND", f"Column '{'.'.join(parts)}' cannot be resolved", position=position)

    def _resolve_here(self, parts: list[str], position: tuple[int, int] | None) -> tuple[ColumnRef, TrinoType] | None:
        head = parts[0]
        if head in self.lambdas:
            return _deref(ColumnRef("lambda", None, head, []), self.lambdas[head], parts, 1, position)
        if self.outputs is not None and len(parts) == 1:
            named = self.outputs.named(head)
            if len(named) > 1:
                raise QueryFailed("AMBIGUOUS_NAME", f"'{head}' in ORDER BY is ambiguous", position=position)
            if named:
                return ColumnRef("output", self.outputs, head, []), named[0].type
        for k in range(min(len(parts) - 1, 3), 0, -1):
            prefix = parts[:k]
            relations = [r for r in self.relations if r.matches(prefix)]
            if len(relations) > 1:
                raise QueryFailed("AMBIGUOUS_NAME", f"Column '{'.'.join(prefix)}' is ambiguous", position=position)
            if relations:
                relation = relations[0]
                fields = relation.named(parts[k])
                if not fields:
                    raise QueryFailed(
                        "COLUMN_NOT_FOUND", f"Column '{'.'.join(parts[: k + 1])}' cannot be resolved", position=position
                    )
                if len(fields) > 1:
                    raise QueryFailed(
                        "AMBIGUOUS_NAME", f"Column '{'.'.join(parts[: k + 1])}' is ambiguous", position=position
                    )
                if fields[0].hidden:
                    relation.pseudo_used.add(parts[k])
                return _deref(ColumnRef("field", relation, parts[k], []), fields[0].type, parts, k + 1, position)
        if head in self.using:
            return _deref(ColumnRef("using", None, head, []), self.using[head], parts, 1, position)
        matches = [(r, f) for r in self.relations for f in r.named(head)]
        if len(matches) > 1:
            raise QueryFailed("AMBIGUOUS_NAME", f"Column '{head}' is ambiguous", position=position)
        if not matches:
            return None
        relation, found = matches[0]
        if found.hidden:
            relation.pseudo_used.add(head)
        return _deref(ColumnRef("field", relation, head, []), found.type, parts, 1, position)


def _deref(
    ref: ColumnRef, t: TrinoType, parts: list[str], start: int, position: tuple[int, int] | None
) -> tuple[ColumnRef, TrinoType]:
    for name in parts[start:]:
        if t.base != "row":
            raise QueryFailed("COLUMN_NOT_FOUND", f"Column '{'.'.join(parts)}' cannot be resolved", position=position)
        fields = [ft for n, ft in t.fields if n == name]
        if not fields:
            raise QueryFailed("COLUMN_NOT_FOUND", f"Column '{'.'.join(parts)}' cannot be resolved", position=position)
        if len(fields) > 1:
            raise QueryFailed("AMBIGUOUS_NAME", f"Ambiguous row field reference: {name}", position=position)
        ref.path.append(name)
        t = fields[0]
    return ref, t


def column_parts(node: exp.Column) -> list[str]:
    """A Column's name parts, lower-cased (Athena's identifiers are case-insensitive)."""
    return [p.name.lower() for p in node.parts]
