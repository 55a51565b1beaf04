"""The local stack: a real Kafka broker, the local AWS endpoint and Airflow, started and stopped together.

Used by `make services`, `make up`, `make stop` and by the tests that need the real scheduler.
"""
