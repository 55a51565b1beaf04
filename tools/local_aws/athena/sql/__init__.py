"""Athena's SQL (Trino) on DuckDB: ``parse`` (statements, parameters), ``analysis`` (what a query
reads), ``functions`` (the Trino function library as DuckDB macros and call rewrites) and
``translate`` (the DuckDB SQL)."""
