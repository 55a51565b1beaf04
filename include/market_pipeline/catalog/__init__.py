"""Catalog: what the catalog DAG checks and builds for one ingest interval, without Airflow.

checks         THE registry of data checks; the DAG's gates, the stats query and the report come from it
interval       the interval's manifests and partitions; make sure Glue has them before Athena counts
sql_names      validated names and literals for SQL; the `lake` object the templates see
query_results  rows of Athena's GetQueryResults (the header row skipped once, here)
report         the per-interval validation report, evaluated from the registry
bars           one-minute OHLCV bars in pandas, to cross-check Athena's
sql/           the SQL templates that are not generated (tables, bars, the interval's rows)
"""
