-- check event_time_inside_partition, interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}):
-- dt/hour folders come from each tick's own event time (UTC).
SELECT count_if(format_datetime(event_time, 'yyyy-MM-dd') <> dt OR format_datetime(event_time, 'HH') <> "hour")
FROM {% include '_interval_rows.sql' %}
