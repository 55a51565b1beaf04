"""A catalog for the analyzer without Glue: the conformance dataset's two tables and an optional view."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from local_aws.athena.errors import QueryFailed
from local_aws.athena.sql import types as T
from local_aws.athena.sql.analysis import Analysis, Field, Source, analyze_query
from local_aws.athena.sql.dialect import LocalTrino

TABLES = {
    "ticks": [
        ("event_time", "timestamp"), ("symbol", "string"), ("event_type", "string"), ("price", "double"),
        ("size", "bigint"), ("bid", "double"), ("ask", "double"), ("notional", "decimal(12,2)"),
        ("kafka_partition", "int"), ("kafka_offset", "bigint"), ("dt", "string"), ("hour", "string"),
    ],
    "symbols": [
        ("symbol", "string"), ("name", "string"), ("sector", "string"), ("tick_size", "decimal(6,4)"),
        ("lot_size", "int"), ("tags", "array<string>"), ("attrs", "map<string,int>"),
        ("listing", "struct<exchange:string,year:int>"),
    ],
}  # fmt: skip
VIEWS = {"trades": "SELECT symbol, size FROM ticks WHERE event_type = 'trade'"}


class FakeSources:
    def lookup(self, table: exp.Table, database: str | None, position: tuple[int, int] | None) -> Source:
        name = table.name.lower()
        if name in VIEWS:
            return Source("view", "db", name, [], view_sql=VIEWS[name])
        if name not in TABLES:
            raise QueryFailed("TABLE_NOT_FOUND", f"Table 'awsdatacatalog.db.{name}' does not exist", position=position)
        return Source("table", "db", name, [Field(c, T.parse_hive(t)) for c, t in TABLES[name]])


def analyze(sql: str) -> Analysis:
    return analyze_query(sqlglot.parse_one(sql, dialect=LocalTrino), sql, FakeSources(), "db")


def output_types(sql: str) -> list[str]:
    return [f.type.display() for f in analyze(sql).fields]
