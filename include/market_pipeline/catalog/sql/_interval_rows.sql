{#- The rows of one ingest interval: the Hive partitions its manifests wrote to, and broker append
    time (ingested_at) inside [data_interval_start, data_interval_end): exactly what the manifests count. -#}
{{ lake.qualified(lake.table) }}
WHERE ({{ ti.xcom_pull(task_ids='interval_manifests')['partition_predicate'] }})
  AND ingested_at >= TIMESTAMP '{{ lake.ts(data_interval_start) }}'
  AND ingested_at < TIMESTAMP '{{ lake.ts(data_interval_end) }}'
