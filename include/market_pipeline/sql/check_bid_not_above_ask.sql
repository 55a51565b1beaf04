-- check bid_not_above_ask, interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }})
SELECT count_if(bid > ask) FROM {% include '_interval_rows.sql' %}
