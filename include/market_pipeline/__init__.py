"""The stock-market pipeline's library: everything the DAGs do, as plain functions over plain clients.

Map::

    settings      every PIPELINE_* setting and default (names, intervals, retries), read from the environment
    schema        the tick message contract; the raw and dead-letter Parquet schemas; Hive column types
    layout        THE S3 contract: every prefix and key (raw, dlq, _manifests, _reports, curated,
                  athena-results, the crawler target), parse_key, dt/hour, the instant format in keys
    s3io          the S3 calls: one paginated listing, get (missing -> None), put
    manifest      the per-window manifest: what a window consumed and wrote; written last
    ingest/       Kafka window -> offsets -> chunks -> decode -> Parquet parts -> manifest -> commit
    catalog/      the data-check registry (gates, stats query and report come from it), report, bars
    setup/        create-or-verify the topic, the Glue database and crawler, the Athena workgroup

Rules (tests/unit/test_boundaries.py enforces them):

- no Airflow and no UI here: the Airflow glue is ``pipeline_airflow``, the page is ``market_ui``; every
  function takes a plain client (boto3, confluent-kafka) so it runs, and is tested, without Airflow;
- every S3 key and prefix is built by ``layout`` and nowhere else; every setting is read by ``settings``;
- keys and bytes come from data only (never wall-clock time or run ids), so reruns are idempotent;
- nothing of the development stand-ins (local_aws, devstack) is imported: production runs on real AWS.
"""
