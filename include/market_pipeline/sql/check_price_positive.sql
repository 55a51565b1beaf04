-- check price_positive, interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }})
SELECT count_if(price <= 0) FROM {% include '_interval_rows.sql' %}
