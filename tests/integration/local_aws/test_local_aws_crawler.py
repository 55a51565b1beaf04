"""The Glue crawler against a real endpoint process: layouts, schemas, policies, configuration."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from botocore.exceptions import ClientError

from tests.integration.local_aws.la_helpers import (
    CrawlWorld,
    columns,
    crawl,
    parquet_bytes,
    partition_values,
    rich_table,
    ticks,
)

PARQUET_IN = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
TICK_COLUMNS = [("symbol", "string"), ("price", "double"), ("size", "bigint"), ("event_time", "timestamp")]


def _hive_layout(world: CrawlWorld, table: str = "ticks", days: tuple[str, ...] = ("2026-01-01", "2026-01-02")) -> int:
    rows = 0
    for day in days:
        for hour in ("00", "01"):
            body = parquet_bytes(ticks(10, start=rows))
            world.put(f"raw/{table}/dt={day}/hour={hour}/ticks+0+{rows}+{rows + 9}.parquet", body)
            rows += 10
    return rows


def test_crawl_hive_partitioned_layout(world: CrawlWorld) -> None:
    rows = _hive_layout(world)
    world.put("raw/ticks/_SUCCESS", b"")
    world.put("raw/ticks/dt=2026-01-01/", b"")  # a console "folder"
    world.put("_manifests/ticks/x.json", b"{}")
    name = world.crawler("c_hive", path="raw/")

    crawler = crawl(world.glue, name)

    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = world.glue.get_tables(DatabaseName=world.database)["TableList"]
    assert [t["Name"] for t in tables] == ["ticks"]
    table = tables[0]
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == TICK_COLUMNS
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "string"}]
    assert sd["Location"] == f"s3://{world.bucket}/raw/ticks/"
    assert sd["InputFormat"] == PARQUET_IN
    assert sd["OutputFormat"] == PARQUET_OUT
    assert sd["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert table["TableType"] == "EXTERNAL_TABLE"
    params = table["Parameters"]
    assert params["classification"] == "parquet"
    assert params["compressionType"] == "snappy"
    assert params["typeOfData"] == "file"
    assert params["recordCount"] == str(rows)
    assert params["objectCount"] == "4"
    assert int(params["sizeKey"]) > 0
    assert int(params["averageRecordSize"]) == int(params["sizeKey"]) // rows
    assert params["UPDATED_BY_CRAWLER"] == name
    assert params["CrawlerSchemaSerializerVersion"] == "1.0"
    assert params["CrawlerSchemaDeserializerVersion"] == "1.0"

    parts = world.glue.get_partitions(DatabaseName=world.database, TableName="ticks")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [
        ["2026-01-01", "00"],
        ["2026-01-01", "01"],
        ["2026-01-02", "00"],
        ["2026-01-02", "01"],
    ]
    by_values = {tuple(p["Values"]): p for p in parts}
    part = by_values[("2026-01-02", "01")]
    assert part["StorageDescriptor"]["Location"] == f"s3://{world.bucket}/raw/ticks/dt=2026-01-02/hour=01/"
    assert part["StorageDescriptor"]["InputFormat"] == PARQUET_IN
    assert part["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert part["Parameters"]["recordCount"] == "10"


def test_hive_types_of_every_parquet_type(world: CrawlWorld) -> None:
    world.put("raw/everything/part-0.parquet", parquet_bytes(rich_table()))
    crawl(world.glue, world.crawler("c_types"))
    assert columns(world.glue, world.database, "everything") == [
        ("i8", "tinyint"),
        ("i16", "smallint"),
        ("i32", "int"),
        ("i64", "bigint"),
        ("f32", "float"),
        ("f64", "double"),
        ("flag", "boolean"),
        ("name", "string"),
        ("raw", "binary"),
        ("ts", "timestamp"),
        ("day", "date"),
        ("amount", "decimal(10,2)"),
        ("tags", "array<string>"),
        ("quote", "struct<bid:double,ask:double>"),
        ("attrs", "map<string,int>"),
        ("mixedcase", "bigint"),
    ]
    table = world.glue.get_table(DatabaseName=world.database, Name="everything")["Table"]
    assert table["PartitionKeys"] == []


def test_recrawl_new_column_and_new_partition(world: CrawlWorld) -> None:
    _hive_layout(world, days=("2026-01-01",))
    name = world.crawler("c_evolve")
    crawl(world.glue, name)
    assert partition_values(world.glue, world.database, "ticks") == [["2026-01-01", "00"], ["2026-01-01", "01"]]
    version_before = world.glue.get_table(DatabaseName=world.database, Name="ticks")["Table"]["VersionId"]

    venue = pa.array(["XNYS"] * 3)
    world.put("raw/ticks/dt=2026-01-02/hour=00/new.parquet", parquet_bytes(ticks(3, extra={"venue": venue})))
    crawler = crawl(world.glue, name)

    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert columns(world.glue, world.database, "ticks") == [*TICK_COLUMNS, ("venue", "string")]
    assert partition_values(world.glue, world.database, "ticks") == [
        ["2026-01-01", "00"],
        ["2026-01-01", "01"],
        ["2026-01-02", "00"],
    ]
    table = world.glue.get_table(DatabaseName=world.database, Name="ticks")["Table"]
    assert int(table["VersionId"]) == int(version_before) + 1
    assert table["Parameters"]["recordCount"] == "23"
    metrics = world.glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert (metrics["TablesCreated"], metrics["TablesUpdated"], metrics["TablesDeleted"]) == (0, 1, 0)
    new_part = world.glue.get_partition(
        DatabaseName=world.database, TableName="ticks", PartitionValues=["2026-01-02", "00"]
    )["Partition"]
    assert ("venue", "string") in [(c["Name"], c["Type"]) for c in new_part["StorageDescriptor"]["Columns"]]


def test_update_behavior_log_keeps_table_but_adds_partitions(world: CrawlWorld) -> None:
    _hive_layout(world, days=("2026-01-01",))
    name = world.crawler("c_log", SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"})
    crawl(world.glue, name)
    world.put(
        "raw/ticks/dt=2026-01-03/hour=00/new.parquet", parquet_bytes(ticks(3, extra={"venue": pa.array(["X"] * 3)}))
    )
    crawl(world.glue, name)
    assert columns(world.glue, world.database, "ticks") == TICK_COLUMNS
    assert ["2026-01-03", "00"] in partition_values(world.glue, world.database, "ticks")


def test_exclusions_and_table_prefix(world: CrawlWorld) -> None:
    _hive_layout(world, table="ticks", days=("2026-01-01",))
    world.put("raw/quotes/dt=2026-01-01/hour=00/q.parquet", parquet_bytes(ticks(2)))
    world.put("raw/ticks/dt=2026-01-01/hour=00/notes.csv", b"a,b\n1,2\n")
    world.put("raw/tmp/scratch.parquet", parquet_bytes(ticks(1)))
    targets = {
        "S3Targets": [
            {"Path": f"s3://{world.bucket}/raw/", "Exclusions": ["**.csv", "tmp/**", "quotes/dt=2026-01-01/**"]}
        ]
    }
    name = world.crawler("c_excl", Targets=targets, TablePrefix="raw_")
    crawler = crawl(world.glue, name)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    names = [t["Name"] for t in world.glue.get_tables(DatabaseName=world.database)["TableList"]]
    assert names == ["raw_ticks"]
    assert (
        world.glue.get_table(DatabaseName=world.database, Name="raw_ticks")["Table"]["Parameters"]["objectCount"] == "2"
    )


def test_unreadable_object_fails_crawl_but_other_tables_are_crawled(world: CrawlWorld) -> None:
    _hive_layout(world, table="ticks", days=("2026-01-01",))
    world.put("raw/quotes/dt=2026-01-01/good.parquet", parquet_bytes(ticks(2)))
    world.put("raw/quotes/dt=2026-01-01/broken.parquet", b"this is not parquet at all")
    crawler = crawl(world.glue, world.crawler("c_bad"))

    last = crawler["LastCrawl"]
    assert last["Status"] == "FAILED"
    assert f"s3://{world.bucket}/raw/quotes/dt=2026-01-01/broken.parquet" in last["ErrorMessage"]
    assert "Parquet" in last["ErrorMessage"]
    names = [t["Name"] for t in world.glue.get_tables(DatabaseName=world.database)["TableList"]]
    assert names == ["ticks"]
    crawls = world.glue.list_crawls(CrawlerName="c_bad")["Crawls"]
    assert crawls[-1]["State"] == "FAILED"
    assert "broken.parquet" in crawls[-1]["ErrorMessage"]


def test_missing_bucket_fails_crawl_with_reason(world: CrawlWorld) -> None:
    targets = {"S3Targets": [{"Path": "s3://no-such-bucket-for-crawler/raw/"}]}
    crawler = crawl(world.glue, world.crawler("c_nobucket", Targets=targets))
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "no-such-bucket-for-crawler does not exist" in crawler["LastCrawl"]["ErrorMessage"]
    with pytest.raises(ClientError) as err:
        world.s3.get_object(Bucket="no-such-bucket-for-crawler", Key="raw/x")
    assert err.value.response["Error"]["Code"] == "NoSuchBucket"


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [("DELETE_FROM_DATABASE", "deleted"), ("DEPRECATE_IN_DATABASE", "deprecated"), ("LOG", "kept")],
)
def test_delete_behavior_for_vanished_partition(world: CrawlWorld, behavior: str, expected: str) -> None:
    _hive_layout(world, days=("2026-01-01",))
    name = world.crawler(
        f"c_del_{behavior.lower()}",
        SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": behavior},
    )
    crawl(world.glue, name)
    gone = world.s3.list_objects_v2(Bucket=world.bucket, Prefix="raw/ticks/dt=2026-01-01/hour=01/")["Contents"]
    for obj in gone:
        world.s3.delete_object(Bucket=world.bucket, Key=obj["Key"])
    crawler = crawl(world.glue, name)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    values = partition_values(world.glue, world.database, "ticks")
    if expected == "deleted":
        assert values == [["2026-01-01", "00"]]
    else:
        assert values == [["2026-01-01", "00"], ["2026-01-01", "01"]]
        part = world.glue.get_partition(
            DatabaseName=world.database, TableName="ticks", PartitionValues=["2026-01-01", "01"]
        )["Partition"]
        assert (part["Parameters"].get("DEPRECATED_BY_CRAWLER") == name) == (expected == "deprecated")


def test_vanished_table_deleted_from_database(world: CrawlWorld) -> None:
    _hive_layout(world, table="ticks", days=("2026-01-01",))
    world.put("raw/quotes/q.parquet", parquet_bytes(ticks(2)))
    name = world.crawler(
        "c_drop", SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DELETE_FROM_DATABASE"}
    )
    crawl(world.glue, name)
    world.s3.delete_object(Bucket=world.bucket, Key="raw/quotes/q.parquet")
    crawl(world.glue, name)
    names = [t["Name"] for t in world.glue.get_tables(DatabaseName=world.database)["TableList"]]
    assert names == ["ticks"]
    metrics = world.glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert metrics["TablesDeleted"] == 1


def test_crawl_new_folders_only(world: CrawlWorld) -> None:
    with pytest.raises(ClientError) as err:
        world.crawler("c_incr_bad", RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"})
    assert err.value.response["Error"]["Code"] == "InvalidInputException"

    _hive_layout(world, days=("2026-01-01",))
    name = world.crawler(
        "c_incr",
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
    )
    crawl(world.glue, name)
    # an existing folder gets a broken file: not re-read, so the crawl still succeeds
    world.put("raw/ticks/dt=2026-01-01/hour=00/zz-broken.parquet", b"garbage")
    world.put("raw/ticks/dt=2026-01-05/hour=00/new.parquet", parquet_bytes(ticks(4)))
    crawler = crawl(world.glue, name)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    assert ["2026-01-05", "00"] in partition_values(world.glue, world.database, "ticks")


def test_configuration_grouping_and_inherit_from_table(world: CrawlWorld) -> None:
    # ticks and quotes share a schema: CombineCompatibleSchemas makes one table with partition_0
    for table in ("ticks", "quotes"):
        world.put(f"raw/{table}/dt=2026-01-01/a.parquet", parquet_bytes(ticks(2)))
    config = {
        "Version": 1.0,
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
        "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
    }
    crawler = crawl(world.glue, world.crawler("c_combine", Configuration=json.dumps(config)))
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = world.glue.get_tables(DatabaseName=world.database)["TableList"]
    assert [t["Name"] for t in tables] == ["raw"]
    assert [k["Name"] for k in tables[0]["PartitionKeys"]] == ["partition_0", "dt"]
    assert partition_values(world.glue, world.database, "raw") == [["quotes", "2026-01-01"], ["ticks", "2026-01-01"]]
    part = world.glue.get_partition(
        DatabaseName=world.database, TableName="raw", PartitionValues=["ticks", "2026-01-01"]
    )["Partition"]
    assert part["StorageDescriptor"]["Location"] == f"s3://{world.bucket}/raw/ticks/dt=2026-01-01/"
    assert part["StorageDescriptor"]["Columns"] == tables[0]["StorageDescriptor"]["Columns"]


def test_configuration_table_level(world: CrawlWorld) -> None:
    world.put("data/v1/ticks/dt=2026-01-01/a.parquet", parquet_bytes(ticks(2)))
    world.put("data/v1/quotes/dt=2026-01-01/a.parquet", parquet_bytes(ticks(2)))
    config = {"Version": 1.0, "Grouping": {"TableLevelConfiguration": 4}}
    crawl(world.glue, world.crawler("c_level", path="data/", Configuration=json.dumps(config)))
    names = sorted(t["Name"] for t in world.glue.get_tables(DatabaseName=world.database)["TableList"])
    assert names == ["quotes", "ticks"]
    table = world.glue.get_table(DatabaseName=world.database, Name="ticks")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{world.bucket}/data/v1/ticks/"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt"]


@pytest.mark.parametrize(
    ("targets", "reason"),
    [
        ({"S3Targets": [{"Path": "raw/no-scheme"}]}, "must start with s3://"),
        ({"S3Targets": [{"Path": "s3://"}]}, "has no bucket"),
        ({"JdbcTargets": [{"ConnectionName": "c", "Path": "db/%"}]}, "No S3 targets"),
    ],
)
def test_bad_targets_fail_the_crawl_with_a_reason(world: CrawlWorld, targets: dict, reason: str) -> None:
    name = world.crawler(f"c_bad_{abs(hash(reason)) % 10_000}", Targets=targets)
    crawler = crawl(world.glue, name)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert reason in crawler["LastCrawl"]["ErrorMessage"]


def test_crawler_without_database_fails_with_reason(world: CrawlWorld) -> None:
    world.put("raw/ticks/a.parquet", parquet_bytes(ticks(1)))
    world.glue.create_crawler(Name="c_nodb", Role="r", Targets={"S3Targets": [{"Path": f"s3://{world.bucket}/raw/"}]})
    crawler = crawl(world.glue, "c_nodb")
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "DatabaseName" in crawler["LastCrawl"]["ErrorMessage"]


def test_invalid_policy_and_configuration_are_rejected(world: CrawlWorld) -> None:
    for kwargs in (
        {"SchemaChangePolicy": {"UpdateBehavior": "SOMETIMES"}},
        {"Configuration": "{not json"},
    ):
        with pytest.raises(ClientError) as err:
            world.crawler("c_invalid", **kwargs)
        assert err.value.response["Error"]["Code"] == "InvalidInputException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_target_is_the_table_folder(world: CrawlWorld) -> None:
    _hive_layout(world, table="ticks", days=("2026-01-01",))
    world.put("raw/ticks/.staging/tmp.parquet", b"half-written")
    world.put("raw/ticks/dt=2026-01-01/hour=00/.part.crc", b"crc")
    world.put("raw/ticks/dt=2026-01-01/hour=00/_committed", b"x")
    name = world.crawler("c_folder", path="raw/ticks")  # no trailing slash: still the folder
    crawler = crawl(world.glue, name)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    tables = world.glue.get_tables(DatabaseName=world.database)["TableList"]
    assert [t["Name"] for t in tables] == ["ticks"]
    assert tables[0]["StorageDescriptor"]["Location"] == f"s3://{world.bucket}/raw/ticks/"
    assert [k["Name"] for k in tables[0]["PartitionKeys"]] == ["dt", "hour"]
    assert tables[0]["Parameters"]["objectCount"] == "2"


def test_table_level_wins_over_combining_compatible_schemas(world: CrawlWorld) -> None:
    """The pipeline's crawler: tables at s3://bucket/raw/<table>/ even when sibling schemas match."""
    world.put("raw/ticks/dt=2026-01-01/hour=00/a.parquet", parquet_bytes(ticks(2)))
    world.put("raw/ticks_copy/dt=2026-01-01/hour=00/a.parquet", parquet_bytes(ticks(2)))
    config = {
        "Version": 1.0,
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas", "TableLevelConfiguration": 3},
    }
    crawl(world.glue, world.crawler("c_level_combine", path="raw/", Configuration=json.dumps(config)))
    names = sorted(t["Name"] for t in world.glue.get_tables(DatabaseName=world.database)["TableList"])
    assert names == ["ticks", "ticks_copy"]
    table = world.glue.get_table(DatabaseName=world.database, Name="ticks")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt", "hour"]
