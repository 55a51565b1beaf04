-- check row_count_matches_manifests, interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}):
-- Athena must count exactly the rows the manifests say were written (nothing lost, nothing doubled).
SELECT count(*) FROM {% include '_interval_rows.sql' %}
