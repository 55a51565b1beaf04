"""Ingest: one broker-time window from Kafka to Parquet on S3, exactly once, one task per partition.

kafka_window  window -> exact offset ranges -> deterministic chunks; commit after the manifest
plan          wait until closed, resolve every partition's range (retention judged from the broker
              and the manifests), spread partitions over tasks
partition     one task's partitions: mark the attempt, read/decode/write, delete stale, one part manifest each
attempts      markers that make the retry of an attempt that died decode in the safe mode
decode        a chunk's JSON values -> rows (fixed schema) + dead letters with the contract's reasons
parquet       rows -> one Parquet part per event-time hour; each write returns its manifest entry
seal          check every part, write the window manifest last, commit, judge the bad share
run           the three steps in one process (what the DAG runs as plan -> mapped partitions -> seal)
options       the tunables all of them share
"""
