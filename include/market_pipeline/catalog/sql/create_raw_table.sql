-- The raw tick table, declared from the fixed, versioned Parquet schema (market_pipeline.schema), so it
-- exists before the first crawl and the catalog checks of an empty interval have a table to count.
-- The crawler only adds partitions to it (partitions inherit the table's schema).
CREATE EXTERNAL TABLE IF NOT EXISTS {{ lake.qualified(lake.table) }} (
{%- for name, type in lake.raw_columns() %}
    `{{ name }}` {{ type }}{{ "," if not loop.last }}
{%- endfor %}
)
PARTITIONED BY (dt string, `hour` string)
STORED AS PARQUET
LOCATION 's3://{{ lake.bucket }}/{{ lake.raw_prefix }}'
TBLPROPERTIES ('classification' = 'parquet', 'parquet.compression' = 'ZSTD')
