-- One-minute bars of the trades ingested in [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}).
-- open/close by per-symbol sequence number: deterministic even when two trades share a timestamp.
INSERT INTO {{ lake.qualified(lake.bars_table) }}
SELECT
    symbol,
    date_trunc('minute', event_time) AS minute,
    min_by(price, seq) AS open,
    max(price) AS high,
    min(price) AS low,
    max_by(price, seq) AS close,
    sum(size) AS volume,
    sum(price * size) / sum(size) AS vwap,
    count(*) AS trade_count,
    min(event_time) AS first_trade_at,
    max(event_time) AS last_trade_at,
    '{{ lake.dt(data_interval_start) }}' AS dt,
    '{{ lake.hour(data_interval_start) }}' AS hour,
    '{{ lake.window(data_interval_start) }}' AS ingest_window
FROM {% include '_interval_rows.sql' %}
  AND event_type = 'trade'
GROUP BY symbol, date_trunc('minute', event_time)
