"""Ingest: one broker-time window from Kafka to Parquet on S3, exactly once, one task per partition.

kafka_window  window -> exact offset ranges -> deterministic chunks; commit after the manifest
plan          wait until closed, resolve every partition's range, spread partitions over tasks
partition     one task's partitions: read/decode/write, delete stale, one part manifest each
decode        a chunk's JSON values -> rows (fixed schema) + dead letters with reasons
parquet       rows -> one Parquet part per event-time hour; each write returns its manifest entry
seal          check every part, write the window manifest last, commit, judge the bad share
run           the three steps in one process (what the DAG runs as plan -> mapped partitions -> seal)
options       the tunables all of them share
"""
