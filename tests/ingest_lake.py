"""A topic and a bucket to ingest windows into, for the fault tests (real broker, local AWS endpoint).

Windows are broker-time intervals (LogAppendTime), so tests produce in phases, take the window from the
delivery reports, and read what landed back from the Parquet objects. `ingest` runs the library the way
the DAG does (with an admin client, so the topic's retention is read from the broker); `ingest_in_child`
runs it in a child process (``python -m tests.ingest_lake``), for faults that kill the process.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from market_pipeline import s3io
from market_pipeline.ingest.kafka_window import window_consumer_config
from market_pipeline.ingest.run import IngestOptions, WindowResult, ingest_window
from tests.support import ROOT, wait_for
from tests.ticks import Delivered, ms_to_dt, produce

TABLE = "ticks"


@dataclass
class IngestLake:
    bootstrap: str
    endpoint: str
    topic: str
    bucket: str
    group: str
    s3: Any

    def ingest(self, start: datetime, end: datetime, **options: Any) -> WindowResult:
        consumer = Consumer(window_consumer_config({"bootstrap.servers": self.bootstrap, "group.id": self.group}))
        try:
            return ingest_window(
                consumer,
                self.s3,
                bucket=self.bucket,
                table=TABLE,
                topic=self.topic,
                window_start=start,
                window_end=end,
                options=IngestOptions(**{"grace_seconds": 60, "kafka_timeout": 10, **options}),
                admin=AdminClient({"bootstrap.servers": self.bootstrap}),
            )
        finally:
            consumer.close()

    def ingest_in_child(
        self, start: datetime, end: datetime, env: dict[str, str] | None = None, **options: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run `ingest` in a fresh Python process; its result is the last stdout line (JSON)."""
        job = {
            "bootstrap": self.bootstrap,
            "endpoint": self.endpoint,
            "topic": self.topic,
            "bucket": self.bucket,
            "group": self.group,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "options": options,
        }
        return subprocess.run(
            [sys.executable, "-m", "tests.ingest_lake", json.dumps(job)],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(s3io.list_keys(self.s3, self.bucket, prefix))

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        return {key: s3io.get_bytes(self.s3, self.bucket, key) or b"" for key in self.keys(prefix)}

    def table(self, prefix: str = "raw/") -> pa.Table:
        parts = [pq.read_table(io.BytesIO(body)) for body in self.objects(prefix).values()]
        return pa.concat_tables(parts) if parts else pa.table({})

    def produce_phase(self, records: list[tuple[bytes | None, bytes | None, int]]) -> list[Delivered]:
        """Produce, then wait until the broker clock has moved past the phase (the next phase stamps later)."""
        delivered = produce(self.bootstrap, self.topic, records)
        last = max(d.timestamp_ms for d in delivered)
        wait_for(lambda: time.time() * 1000 > last + 5, 5, "the clock to pass the phase")
        return delivered


def window_around(delivered: list[Delivered]) -> tuple[datetime, datetime]:
    return ms_to_dt(min(d.timestamp_ms for d in delivered)), ms_to_dt(max(d.timestamp_ms for d in delivered) + 1)


def lake_for(kafka_bootstrap: str, aws_endpoint: str, topic: str, bucket: str, s3: Any) -> IngestLake:
    import uuid

    return IngestLake(kafka_bootstrap, aws_endpoint, topic, bucket, f"g_{uuid.uuid4().hex[:8]}", s3)


def main() -> None:
    import boto3

    job = json.loads(sys.argv[1])
    s3 = boto3.client(
        "s3",
        endpoint_url=job["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    lake = IngestLake(job["bootstrap"], job["endpoint"], job["topic"], job["bucket"], job["group"], s3)
    result = lake.ingest(
        datetime.fromisoformat(job["start"]).astimezone(UTC),
        datetime.fromisoformat(job["end"]).astimezone(UTC),
        **job["options"],
    )
    print(json.dumps(result.to_dict()))


if __name__ == "__main__":
    main()
