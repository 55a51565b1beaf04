-- The raw trades of [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}), for the pandas cross-check of the bars.
SELECT symbol, seq, event_time, price, size
FROM {% include '_interval_rows.sql' %}
  AND event_type = 'trade'
