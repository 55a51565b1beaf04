"""Athena's SQL (Trino) on DuckDB, one job per module: ``parse`` (statements as Athena routes them,
parameters), ``dialect`` (Trino with every call kept by name), ``types`` and ``coercion`` (Trino's types
and implicit conversions), ``analysis`` (names resolved, every expression typed, Trino's analysis
errors), ``library`` (the Trino function library: signatures, result types, DuckDB forms and macros)
and ``translate`` (the typed tree as DuckDB SQL)."""
