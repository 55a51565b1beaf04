-- Validation statistics of ingest interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}):
-- one row that the validation report is built from.
WITH w AS (
    SELECT * FROM {% include '_interval_rows.sql' %}
),
duplicates AS (
    SELECT count(*) AS duplicate_offsets
    FROM (SELECT kafka_partition, kafka_offset FROM w GROUP BY kafka_partition, kafka_offset HAVING count(*) > 1) AS d
)
SELECT
    count(*) AS row_count,
    (SELECT duplicate_offsets FROM duplicates) AS duplicate_offsets,
    count_if(symbol IS NULL OR price IS NULL) AS null_symbol_or_price,
    count_if(price <= 0) AS non_positive_price,
    count_if(bid > ask) AS bid_above_ask,
    count_if(format_datetime(event_time, 'yyyy-MM-dd') <> dt OR format_datetime(event_time, 'HH') <> "hour") AS outside_partition,
    count_if(event_type = 'trade') AS trades,
    count(DISTINCT symbol) AS symbols,
    min(event_time) AS oldest_event_time,
    max(event_time) AS newest_event_time
FROM w
