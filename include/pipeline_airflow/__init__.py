"""The pipeline's Airflow glue: the only product package that imports Airflow (besides dags/ and plugins/).

    defaults    default_args (owner, retries from settings, back-off) and tags of every DAG
    assets      the raw-ticks Asset (ingest's outlet, the catalog's inlet)
    kafka       Kafka clients from the connection through the provider's hooks; the one place that
                uses a private provider API (KafkaBaseHook._build_config), with a test that fails
                loudly when the provider changes it
    ui_clients  the Market pipeline page's Kafka, S3 and Athena clients from the same connections

Rules: logic lives in market_pipeline (no Airflow) and is only adapted here; submodules are imported
where needed (DAG files import them inside tasks), so parsing a DAG stays light.
"""
