"""The tunables of a window's ingest, shared by planning, the partition tasks and the seal."""

from __future__ import annotations

from dataclasses import dataclass, field

from market_pipeline.ingest.decode import DecodeMode
from market_pipeline.schema import TickContract

# Airflow's default [core] max_map_length is 1024: more mapped tasks than that fail the DAG run.
MAX_INGEST_TASKS_LIMIT = 1024


@dataclass(frozen=True)
class IngestOptions:
    """Tunables of one window run (the DAG exposes grace_seconds, max_bad_share, chunk_size and
    max_ingest_tasks as Params)."""

    grace_seconds: float = 30.0
    max_bad_share: float = 0.01
    chunk_size: int = 100_000
    # How many tasks a window's partitions are spread over; more partitions than this share tasks.
    max_ingest_tasks: int = 16
    # How long a run may wait for its window to close before giving up (open or future window).
    max_wait_seconds: float = 300.0
    consume_batch: int = 10_000
    kafka_timeout: float = 30.0
    # The topic's time retention; None: read retention.ms and retention.bytes from the broker (with an
    # admin client), or, without one, decide from earlier manifests alone (see RetentionEvidence).
    retention_ms: int | None = None
    # The tick contract's settings (event-time floor and skew); the DAG passes the PIPELINE_* settings.
    contract: TickContract = field(default_factory=TickContract)
    # None: fast, or safe for a partition whose previous attempt died (see ingest.attempts); a mode
    # here forces it for every partition.
    decode_mode: DecodeMode | None = None
    progress_interval: float = 10.0
    # Chunks decoded/written by worker threads while the next ones are read. Arrow (JSON parse,
    # Parquet, zstd) and socket I/O release the GIL, so two writers use a second core; the number of
    # pending chunks bounds memory.
    max_pending_chunks: int = 2
    writer_threads: int = 2

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.consume_batch < 1:
            raise ValueError("chunk_size and consume_batch must be positive")
        if not 0.0 <= self.max_bad_share <= 1.0:
            raise ValueError("max_bad_share must be between 0 and 1")
        if self.grace_seconds < 0:
            raise ValueError("grace_seconds must not be negative")
        if not 1 <= self.max_ingest_tasks <= MAX_INGEST_TASKS_LIMIT:
            raise ValueError(f"max_ingest_tasks must be between 1 and {MAX_INGEST_TASKS_LIMIT}")
        if self.writer_threads < 1 or self.max_pending_chunks < 0:
            raise ValueError("writer_threads must be positive and max_pending_chunks not negative")
