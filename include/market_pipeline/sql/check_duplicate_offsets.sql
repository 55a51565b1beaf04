-- check no_duplicate_offsets, interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}):
-- every Kafka (partition, offset) is one row in exactly one object.
SELECT count(*)
FROM (
    SELECT kafka_partition, kafka_offset
    FROM {% include '_interval_rows.sql' %}
    GROUP BY kafka_partition, kafka_offset
    HAVING count(*) > 1
) AS duplicated
