"""Syntax that is a function in disguise, rewritten to the named call before analysis.

``EXTRACT(HOUR FROM x)`` is ``hour(x)``, ``POSITION(a IN b)`` is ``strpos(b, a)``, ``TRIM(LEADING c FROM
s)`` is ``ltrim(s, c)``, ``SUBSTRING(s FROM a FOR b)`` is ``substr(s, a, b)``, ``NORMALIZE(s, NFD)`` is
``normalize(s, 'NFD')`` and ``x AT TIME ZONE z`` is ``at_timezone(x, z)``: one function library then
types and translates them all.
"""

from __future__ import annotations

from sqlglot import exp

from local_aws.athena.errors import QueryFailed

_EXTRACT = {
    "YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "WEEK": "week", "DAY": "day",
    "DAY_OF_MONTH": "day", "DAY_OF_WEEK": "day_of_week", "DOW": "day_of_week", "DAY_OF_YEAR": "day_of_year",
    "DOY": "day_of_year", "YEAR_OF_WEEK": "year_of_week", "YOW": "year_of_week", "HOUR": "hour",
    "MINUTE": "minute", "SECOND": "second", "TIMEZONE_HOUR": "timezone_hour", "TIMEZONE_MINUTE": "timezone_minute",
}  # fmt: skip


def _call(name: str, args: list[exp.Expression], like: exp.Expression) -> exp.Expression:
    node = exp.Anonymous(this=name, expressions=[a for a in args if a is not None])
    node.meta.update(like.meta)
    return node


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Extract):
        field = node.this.name.upper()
        if field not in _EXTRACT:
            raise QueryFailed("SYNTAX_ERROR", f"Invalid EXTRACT field: {field}")
        return _call(_EXTRACT[field], [node.expression], node)
    if isinstance(node, exp.StrPosition):
        return _call("strpos", [node.this, node.args["substr"]], node)
    if isinstance(node, exp.Trim):
        position = (node.args.get("position") or "BOTH").upper()
        name = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(position, "trim")
        return _call(name, [node.this, node.expression], node)
    if isinstance(node, exp.Substring):
        return _call("substr", [node.this, node.args.get("start"), node.args.get("length")], node)
    if isinstance(node, exp.Normalize):
        form = node.args.get("form")
        return _call("normalize", [node.this, exp.Literal.string(form.name.upper()) if form else None], node)
    if isinstance(node, exp.AtTimeZone):
        return _call("at_timezone", [node.this, node.args["zone"]], node)
    return node


def desugar(tree: exp.Expression) -> exp.Expression:
    """Rewrite, in place where possible, and return the (possibly new) root."""
    return tree.transform(_rewrite, copy=False)
