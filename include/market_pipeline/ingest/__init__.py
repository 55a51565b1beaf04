"""Ingest: one broker-time window from Kafka to Parquet on S3, exactly once (the ingest DAG's task).

kafka_window  window -> exact offset ranges -> deterministic chunks; commit after the manifest
decode        a chunk's JSON values -> rows (fixed schema) + dead letters with reasons
parquet       rows -> one Parquet part per event-time hour; each write returns its manifest entry
run           the order of effects: wait, resolve, read/decode/write, delete stale, manifest, commit
"""
