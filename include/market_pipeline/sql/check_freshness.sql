-- check freshness, interval [{{ lake.ts(data_interval_start) }}, {{ lake.ts(data_interval_end) }}):
-- seconds by which the interval's newest tick is older than the allowed lag of {{ params.freshness_minutes }} min
-- before the interval start (0 = fresh, or an empty interval).
SELECT CASE
    WHEN count(*) = 0 THEN 0
    WHEN max(event_time) >= TIMESTAMP '{{ lake.ts(data_interval_start) }}' - INTERVAL '{{ params.freshness_minutes | int }}' MINUTE THEN 0
    ELSE date_diff('second', max(event_time), TIMESTAMP '{{ lake.ts(data_interval_start) }}' - INTERVAL '{{ params.freshness_minutes | int }}' MINUTE)
END
FROM {% include '_interval_rows.sql' %}
