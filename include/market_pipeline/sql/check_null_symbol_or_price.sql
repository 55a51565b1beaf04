-- check no_null_symbol_or_price, interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }})
SELECT count_if(symbol IS NULL OR price IS NULL) FROM {% include '_interval_rows.sql' %}
