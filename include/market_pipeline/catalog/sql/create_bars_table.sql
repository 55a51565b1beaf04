-- The curated layer: one-minute OHLCV bars per symbol, built from trades, partitioned by the ingest
-- interval that carried the trades (dt, hour, ingest_window = HHMM of the interval start), so each
-- catalog run owns one partition and a rerun replaces it.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ lake.qualified(lake.bars_table) }} (
    symbol string,
    minute timestamp,
    open double,
    high double,
    low double,
    close double,
    volume bigint,
    vwap double,
    trade_count bigint,
    first_trade_at timestamp,
    last_trade_at timestamp
)
PARTITIONED BY (dt string, hour string, ingest_window string)
STORED AS PARQUET
LOCATION 's3://{{ lake.bucket }}/{{ lake.bars_prefix }}'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY')
