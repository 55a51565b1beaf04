-- The curated bars the catalog run built for [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}).
SELECT symbol, minute, open, high, low, close, volume, vwap, trade_count
FROM {{ lake.qualified(lake.bars_table) }}
WHERE dt = '{{ lake.dt(data_interval_start) }}'
  AND "hour" = '{{ lake.hour(data_interval_start) }}'
  AND ingest_window = '{{ lake.window(data_interval_start) }}'
