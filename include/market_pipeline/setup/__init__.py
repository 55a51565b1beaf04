"""Setup: create-or-verify what the pipeline runs on, over plain clients (the setup DAG's tasks).

topic          the Kafka topic and its configs (the only place LogAppendTime is stated)
aws_resources  the Glue database, the crawler's configuration, the Athena workgroup
"""
