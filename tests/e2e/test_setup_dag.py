"""The setup DAG against the real broker and the local AWS endpoint: creates everything, reruns change nothing."""

from __future__ import annotations

import pytest

from tests.support import load_dag, use_pipeline_names

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def pipeline_names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return use_pipeline_names(monkeypatch, prefix="setup_test")


def _load_setup_dag():
    return load_dag("stock_market_setup")


def _task_results(dr) -> dict[str, object]:
    return {ti.task_id: ti.xcom_pull(task_ids=ti.task_id) for ti in dr.get_task_instances()}


def test_setup_creates_everything_and_rerun_changes_nothing(
    airflow_db, kafka_bootstrap, kafka_admin, boto_client, pipeline_names
):
    dag = _load_setup_dag()
    first = dag.test()
    assert first.state == "success", [(ti.task_id, ti.state) for ti in first.get_task_instances()]

    from confluent_kafka.admin import ConfigResource

    topic = pipeline_names["PIPELINE_TOPIC"]
    md = kafka_admin.list_topics(topic, timeout=10).topics[topic]
    assert len(md.partitions) == 3
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = kafka_admin.describe_configs([resource])[resource].result(timeout=10)
    assert configs["message.timestamp.type"].value == "LogAppendTime"

    boto_client("s3").head_bucket(Bucket=pipeline_names["PIPELINE_BUCKET"])
    glue = boto_client("glue")
    assert glue.get_database(Name=pipeline_names["PIPELINE_GLUE_DATABASE"])["Database"]["Name"]
    crawler = glue.get_crawler(Name=pipeline_names["PIPELINE_CRAWLER"])["Crawler"]
    assert crawler["Targets"]["S3Targets"][0]["Path"] == f"s3://{pipeline_names['PIPELINE_BUCKET']}/raw/"
    wg = boto_client("athena").get_work_group(WorkGroup=pipeline_names["PIPELINE_ATHENA_WORKGROUP"])["WorkGroup"]
    assert wg["Configuration"]["ResultConfiguration"]["OutputLocation"] == (
        f"s3://{pipeline_names['PIPELINE_BUCKET']}/athena-results/"
    )

    from market_pipeline.schema import hive_columns

    raw = glue.get_table(DatabaseName=pipeline_names["PIPELINE_GLUE_DATABASE"], Name="ticks")["Table"]
    assert [(c["Name"], c["Type"]) for c in raw["StorageDescriptor"]["Columns"]] == hive_columns()
    assert [k["Name"] for k in raw["PartitionKeys"]] == ["dt", "hour"]
    assert raw["StorageDescriptor"]["Location"].rstrip("/") == f"s3://{pipeline_names['PIPELINE_BUCKET']}/raw/ticks"

    second = _load_setup_dag().test()
    assert second.state == "success"
    results = _task_results(second)
    assert results["ensure_topic"]["action"] == "unchanged"
    assert results["ensure_glue_database"] == "unchanged"
    assert results["ensure_crawler"] == "unchanged"
    assert results["ensure_athena_workgroup"] == "unchanged"


def test_setup_rejects_a_topic_with_conflicting_timestamp_type(
    airflow_db, kafka_bootstrap, kafka_admin, pipeline_names
):
    from confluent_kafka.admin import NewTopic

    topic = pipeline_names["PIPELINE_TOPIC"]
    kafka_admin.create_topics([NewTopic(topic, 3, 1, config={"message.timestamp.type": "CreateTime"})])[topic].result(
        timeout=30
    )
    dr = _load_setup_dag().test()
    assert dr.state == "failed"
    ti = next(ti for ti in dr.get_task_instances() if ti.task_id == "ensure_topic")
    assert ti.state == "failed"
