"""The conformance dataset: two small tables written out row by row, so every expected answer in the
corpus can be computed by hand.

``ticks`` has the project's tick columns (a trade carries ``size`` and ``notional = price * size``; a
quote carries neither and its ``price`` is the bid/ask mid), Hive-partitioned by ``dt``/``hour`` as
strings over three partitions (8 + 6 + 6 rows). ``symbols`` is an unpartitioned reference table with a
decimal, an array, a map and a struct column; it lists GOOG (no ticks) and lacks TSLA (has ticks), so
outer joins have something to show on both sides.

The runner uploads the Parquet files to a fresh bucket, creates a Glue crawler over ``raw/`` and
crawls: the tables the corpus queries are the crawler's, as in the pipeline. Object keys are fixed
here, so ``"$path"`` and ``"$file_size"`` are known by construction (see ``World.placeholders``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

D = decimal.Decimal

TICKS_SCHEMA = pa.schema(
    [
        ("event_time", pa.timestamp("ms", tz="UTC")),
        ("symbol", pa.string()),
        ("event_type", pa.string()),
        ("price", pa.float64()),
        ("size", pa.int64()),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
        ("notional", pa.decimal128(12, 2)),
        ("kafka_partition", pa.int32()),
        ("kafka_offset", pa.int64()),
    ]
)

# (kafka_offset, dt, hour, time of day, symbol, event_type, price, size, bid, ask, notional, kafka_partition)
TICK_ROWS: list[tuple[Any, ...]] = [
    (100, "2026-11-24", "22", "22:00:00.000", "AAPL", "trade", 100.0, 10, 99.5, 100.5, "1000.00", 0),
    (101, "2026-11-24", "22", "22:05:00.250", "MSFT", "quote", 200.5, None, 200.0, 201.0, None, 0),
    (102, "2026-11-24", "22", "22:10:00.500", "TSLA", "trade", 300.0, 5, 299.5, 300.5, "1500.00", 0),
    (103, "2026-11-24", "22", "22:15:00.750", "AAPL", "quote", 100.25, None, 100.0, 100.5, None, 0),
    (104, "2026-11-24", "22", "22:20:00.000", "MSFT", "trade", 201.0, 20, 200.5, 201.5, "4020.00", 0),
    (105, "2026-11-24", "22", "22:30:00.000", "AAPL", "trade", 101.0, 30, 100.5, 101.5, "3030.00", 0),
    (106, "2026-11-24", "22", "22:45:00.125", "TSLA", "quote", 301.5, None, 301.0, 302.0, None, 0),
    (107, "2026-11-24", "22", "22:59:59.999", "AAPL", "trade", 100.5, 40, 100.0, 101.0, "4020.00", 0),
    (200, "2026-11-25", "10", "10:00:00.000", "AAPL", "trade", 102.0, 10, 101.5, 102.5, "1020.00", 1),
    (201, "2026-11-25", "10", "10:15:00.000", "MSFT", "trade", 202.0, 10, 201.5, 202.5, "2020.00", 1),
    (202, "2026-11-25", "10", "10:30:00.000", "TSLA", "trade", 299.0, 15, 298.5, 299.5, "4485.00", 1),
    (203, "2026-11-25", "10", "10:45:00.500", "AAPL", "quote", 102.25, None, 102.0, 102.5, None, 1),
    (204, "2026-11-25", "10", "10:59:00.000", "MSFT", "trade", 203.0, 5, 202.5, 203.5, "1015.00", 1),
    (205, "2026-11-25", "10", "10:59:59.000", "TSLA", "quote", 299.25, None, 299.0, 299.5, None, 1),
    (206, "2026-11-25", "11", "11:00:00.000", "AAPL", "trade", 103.0, 20, 102.5, 103.5, "2060.00", 1),
    (207, "2026-11-25", "11", "11:01:00.000", "MSFT", "quote", 203.5, None, 203.0, 204.0, None, 1),
    (208, "2026-11-25", "11", "11:15:30.500", "TSLA", "trade", 298.0, 10, 297.5, 298.5, "2980.00", 1),
    (209, "2026-11-25", "11", "11:30:00.000", "AAPL", "trade", 103.5, 10, 103.0, 104.0, "1035.00", 1),
    (210, "2026-11-25", "11", "11:45:00.000", "MSFT", "trade", 204.0, 25, 203.5, 204.5, "5100.00", 1),
    (211, "2026-11-25", "11", "11:59:59.999", "AAPL", "quote", 103.75, None, 103.5, 104.0, None, 1),
]

TICK_PARTITIONS = (("2026-11-24", "22"), ("2026-11-25", "10"), ("2026-11-25", "11"))

SYMBOLS_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("name", pa.string()),
        ("sector", pa.string()),
        ("tick_size", pa.decimal128(6, 4)),
        ("lot_size", pa.int32()),
        ("tags", pa.list_(pa.string())),
        ("attrs", pa.map_(pa.string(), pa.int32())),
        ("listing", pa.struct([("exchange", pa.string()), ("year", pa.int32())])),
    ]
)

SYMBOL_ROWS: list[dict[str, Any]] = [
    {
        "symbol": "AAPL",
        "name": "Apple Inc.",
        "sector": "Technology",
        "tick_size": D("0.0100"),
        "lot_size": 100,
        "tags": ["tech", "nasdaq"],
        "attrs": [("rank", 1)],
        "listing": {"exchange": "XNAS", "year": 1980},
    },
    {
        "symbol": "MSFT",
        "name": "Microsoft Corp.",
        "sector": "Technology",
        "tick_size": D("0.0100"),
        "lot_size": 100,
        "tags": ["tech", "nasdaq", "dow"],
        "attrs": [("rank", 2)],
        "listing": {"exchange": "XNAS", "year": 1986},
    },
    {
        "symbol": "GOOG",
        "name": "Alphabet Inc.",
        "sector": "Communication",
        "tick_size": D("0.0500"),
        "lot_size": 10,
        "tags": [],
        "attrs": [],
        "listing": {"exchange": "XNAS", "year": 2004},
    },
]


def tick_key(day: str, hour: str) -> str:
    return f"raw/ticks/dt={day}/hour={hour}/part-0.parquet"


SYMBOLS_KEY = "raw/symbols/part-0.parquet"


def ticks_table(day: str, hour: str) -> pa.Table:
    """The rows of one ``ticks`` partition (partition values live in the key, not in the file)."""
    rows = [r for r in TICK_ROWS if (r[1], r[2]) == (day, hour)]
    stamp = [dt.datetime.fromisoformat(f"{r[1]}T{r[3]}+00:00") for r in rows]
    return pa.table(
        {
            "event_time": pa.array(stamp, TICKS_SCHEMA.field("event_time").type),
            "symbol": [r[4] for r in rows],
            "event_type": [r[5] for r in rows],
            "price": pa.array([r[6] for r in rows], pa.float64()),
            "size": pa.array([r[7] for r in rows], pa.int64()),
            "bid": pa.array([r[8] for r in rows], pa.float64()),
            "ask": pa.array([r[9] for r in rows], pa.float64()),
            "notional": pa.array([None if r[10] is None else D(r[10]) for r in rows], pa.decimal128(12, 2)),
            "kafka_partition": pa.array([r[11] for r in rows], pa.int32()),
            "kafka_offset": pa.array([r[0] for r in rows], pa.int64()),
        },
        schema=TICKS_SCHEMA,
    )


def symbols_table() -> pa.Table:
    return pa.Table.from_pylist(SYMBOL_ROWS, schema=SYMBOLS_SCHEMA)


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def data_files() -> dict[str, bytes]:
    """Every object of the dataset, by S3 key."""
    files = {tick_key(day, hour): parquet_bytes(ticks_table(day, hour)) for day, hour in TICK_PARTITIONS}
    files[SYMBOLS_KEY] = parquet_bytes(symbols_table())
    return files


@dataclass
class World:
    """Where the dataset lives on the endpoint under test."""

    bucket: str
    database: str
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return f"s3://{self.bucket}/athena-results/"

    def placeholders(self) -> dict[str, str]:
        """``${name}`` tokens a case may use in its SQL and expectations."""
        values = {"db": self.database, "bucket": self.bucket, "output": self.output}
        values.update({f"size:{key}": str(size) for key, size in self.sizes.items()})
        return values


CRAWL_TIMEOUT = 120.0


def build_world(client: Any) -> World:
    """Upload the dataset to a fresh bucket, crawl it into a fresh Glue database, return where it is."""
    suffix = uuid.uuid4().hex[:8]
    world = World(bucket=f"conformance-{suffix}", database=f"conformance_{suffix}")
    s3, glue = client("s3"), client("glue")
    s3.create_bucket(Bucket=world.bucket)
    for key, body in data_files().items():
        s3.put_object(Bucket=world.bucket, Key=key, Body=body)
        world.sizes[key] = len(body)
    glue.create_database(DatabaseInput={"Name": world.database})
    crawler = f"conformance-{suffix}"
    glue.create_crawler(
        Name=crawler,
        Role="arn:aws:iam::123456789012:role/conformance",
        DatabaseName=world.database,
        Targets={"S3Targets": [{"Path": f"s3://{world.bucket}/raw/"}]},
    )
    glue.start_crawler(Name=crawler)
    deadline = time.monotonic() + CRAWL_TIMEOUT
    while True:
        state = glue.get_crawler(Name=crawler)["Crawler"]
        if state["State"] == "READY" and "LastCrawl" in state:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"crawler {crawler} not done after {CRAWL_TIMEOUT}s: {state}")
        time.sleep(0.05)
    if state["LastCrawl"].get("Status") != "SUCCEEDED":
        raise AssertionError(f"crawl failed: {state['LastCrawl']}")
    tables = sorted(t["Name"] for t in glue.get_tables(DatabaseName=world.database)["TableList"])
    if tables != ["symbols", "ticks"]:
        raise AssertionError(f"the crawler made tables {tables}, expected ['symbols', 'ticks']")
    return world
