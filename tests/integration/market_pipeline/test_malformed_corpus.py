"""The malformed-message corpus (tests/malformed.py) produced into the real broker among simulator
ticks and ingested through the real path into the local S3: every valid tick lands exactly once, every
bad message is in dlq/ with the contract's reason, the manifest adds up, and max_bad_share decides.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from market_pipeline.ingest.decode import DecodeMode
from market_pipeline.ingest.run import BadShareExceededError
from market_pipeline.layout import manifest_key
from market_pipeline.manifest import read_manifest
from tests.ingest_lake import TABLE, IngestLake, lake_for, window_around
from tests.malformed import edge_valid, malformed
from tests.ticks import encode, make_ticks

pytestmark = pytest.mark.integration


@pytest.fixture
def lake(kafka_bootstrap, aws_endpoint, kafka_topic, s3_bucket, boto_client) -> IngestLake:
    return lake_for(kafka_bootstrap, aws_endpoint, kafka_topic(3, prefix="corpus"), s3_bucket, boto_client("s3"))


def rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)


def test_the_malformed_corpus_through_the_real_broker_and_the_real_ingest(lake):
    now = datetime.now(UTC)
    ticks = make_ticks(3000, now - timedelta(minutes=20), step=timedelta(milliseconds=300), seed=7)
    base = next(t for t in ticks if t["event_type"] == "trade")
    bad, edge = malformed(base, now), edge_valid(base, now)
    assert len(bad) >= 90

    # Interleave: a corpus case after every 15th tick, partitions round robin.
    records: list[tuple[bytes | None, bytes | None, int]] = []
    expected: list[tuple[str, object]] = []  # per record: ("tick", dict) | ("edge", Case) | ("bad", Case)
    cases = [("bad", c) for c in bad] + [("edge", c) for c in edge]
    for i, tick in enumerate(ticks):
        records.append((tick["symbol"].encode(), encode(tick), len(records) % 3))
        expected.append(("tick", tick))
        if i % 15 == 14 and cases:
            kind, case = cases.pop(0)
            records.append((b"CORPUS" if kind == "bad" else None, case.value, len(records) % 3))
            expected.append((kind, case))
    assert not cases, "every case was placed"
    delivered = lake.produce_phase(records)
    lake.produce_phase([(b"AAPL", encode(base), p) for p in range(3)])  # closes the window at once
    start, end = window_around(delivered)

    # About 5 % of the messages are bad: above the default limit (1 %), the run fails after writing everything.
    with pytest.raises(BadShareExceededError, match=f"{len(bad)} of {len(records)} messages"):
        lake.ingest(start, end)
    failed = read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, end))
    assert failed is not None and failed.status == "bad_share_exceeded"
    written = lake.objects()

    result = lake.ingest(start, end, max_bad_share=0.1)  # a rerun with a higher limit: the same objects
    assert result.status == "ok" and (result.messages_in, result.dlq_count) == (len(records), len(bad))
    assert {k: v for k, v in lake.objects().items() if not k.startswith("_manifests/")} == {
        k: v for k, v in written.items() if not k.startswith("_manifests/")
    }

    where = {(d.partition, d.offset): e for d, e in zip(delivered, expected, strict=True)}
    raw = lake.table("raw/")
    landed = list(zip(raw["kafka_partition"].to_pylist(), raw["kafka_offset"].to_pylist(), strict=True))
    assert len(landed) == len(set(landed)), "no message landed twice"
    assert set(landed) == {at for at, (kind, _) in where.items() if kind != "bad"}, "every valid tick landed"
    for row in raw.to_pylist():
        kind, item = where[(row["kafka_partition"], row["kafka_offset"])]
        doc = item if kind == "tick" else json.loads(item.value)  # type: ignore[union-attr]
        for name in ("symbol", "seq", "exchange", "event_type", "bid_size", "ask_size"):
            assert row[name] == doc[name], (name, row, doc)
        assert (row["price"], row["bid"], row["ask"]) == (float(doc["price"]), float(doc["bid"]), float(doc["ask"]))
        assert row["size"] == doc.get("size") and row["event_time"] == rfc3339(doc["event_time"])

    dlq = lake.table("dlq/")
    got = {(r["kafka_partition"], r["kafka_offset"]): r for r in dlq.to_pylist()}
    assert len(got) == dlq.num_rows == len(bad)
    for at, (kind, case) in where.items():
        if kind == "bad":
            row = got[at]
            assert (row["reason"], row["raw"], row["key"]) == (case.reason, case.value, b"CORPUS"), case.kind  # type: ignore[union-attr]

    manifest = read_manifest(lake.s3, lake.bucket, manifest_key(TABLE, end))
    assert manifest is not None and manifest.status == "ok"
    assert manifest.messages_in == manifest.rows_out + manifest.dlq_count == len(records)
    assert sum(o.rows for o in manifest.data_objects) == manifest.rows_out == raw.num_rows
    assert sum(o.rows for o in manifest.dlq_objects) == manifest.dlq_count == dlq.num_rows
    assert {o.key for o in manifest.objects} == set(lake.keys("raw/")) | set(lake.keys("dlq/"))

    # The safe (pure Python) decoder writes the very same bytes for this window.
    before = lake.objects()
    safe = lake.ingest(start, end, max_bad_share=0.1, decode_mode=DecodeMode.SAFE)
    assert safe.decode_mode == "safe" and lake.objects() == before
