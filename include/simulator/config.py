"""Run configuration and result of the simulator, shared by the CLI, the DAG and the Python API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

DEFAULT_TOPIC = "stock_market_data"  # the pipeline's default (market_pipeline.settings); not imported
Mode = Literal["live", "replay"]
Clock = Literal["wall", "simulated"]


@dataclass(frozen=True)
class SimulatorConfig:
    """What to simulate, how fast and for how long.

    Pacing: ``rate`` > 0 emits that many ticks per wall-clock second; otherwise ``speed`` > 0 plays
    simulated trading time at that multiple of real time (replays: 1 = one session per 6.5 hours);
    both 0 means as fast as possible. Event time: ``clock="wall"`` stamps each tick with the wall clock
    at emission; ``"simulated"`` uses the model's own clock from ``start`` (replays: the bar's date).
    The run ends at ``duration_s``, at ``max_ticks``, at the end of a replay file, or when stopped.

    Broker outages: a tick waits up to ``outage_limit_s`` for the broker (librdkafka's
    ``message.timeout.ms``); the first tick that times out ends the run, and every tick not acknowledged
    by then is counted as undelivered (``RunResult.failed``). ``start_prices`` (symbol -> USD) start
    the model's prices there instead of the universe's reference levels (a run continuing the last one).
    ``start_seqs`` (symbol -> the last `seq` on the topic) number each symbol's ticks on from there, so
    `seq` keeps increasing across a chain of runs (bars take open and close by it).
    """

    topic: str = DEFAULT_TOPIC
    mode: Mode = "live"
    universe: str | tuple[str, ...] = "default"
    seed: int = 0
    rate: float = 1000.0
    speed: float = 0.0
    duration_s: float | None = None
    max_ticks: int | None = None
    clock: Clock | None = None  # None: wall for live, simulated for replay
    start: datetime | None = None  # simulated clock start; None: now
    always_open: bool = False
    holidays: bool = True
    intensity: float | None = None  # ticks per simulated second; None: rate, or 1000 if rate is 0
    replay_file: str | None = None
    ticks_per_bar: int = 390
    block_size: int = 8192
    progress_interval_s: float = 5.0
    flush_timeout_s: float = 10.0
    metadata_timeout_s: float = 10.0
    outage_limit_s: float = 300.0
    start_prices: Mapping[str, float] | None = None
    start_seqs: Mapping[str, int] | None = None
    create_topic: bool = False  # standalone use; in the pipeline, setup (or the DAG through it) owns the topic
    topic_partitions: int = 3
    install_signal_handlers: bool = True

    def __post_init__(self) -> None:
        if not self.topic:
            raise ValueError("topic must not be empty")
        if self.mode not in ("live", "replay"):
            raise ValueError(f"mode must be 'live' or 'replay', got {self.mode!r}")
        if self.clock not in (None, "wall", "simulated"):
            raise ValueError(f"clock must be 'wall' or 'simulated', got {self.clock!r}")
        if self.mode == "replay" and not self.replay_file:
            raise ValueError("mode 'replay' needs replay_file")
        if self.rate < 0 or self.speed < 0:
            raise ValueError("rate and speed must be >= 0")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError(f"duration_s must be > 0, got {self.duration_s}")
        if self.max_ticks is not None and self.max_ticks < 0:
            raise ValueError(f"max_ticks must be >= 0, got {self.max_ticks}")
        if self.intensity is not None and self.intensity <= 0:
            raise ValueError("intensity must be > 0")
        if self.block_size <= 0 or self.ticks_per_bar < 4:
            raise ValueError("block_size must be > 0 and ticks_per_bar >= 4")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (e.g. 2026-11-24T14:30:00Z)")
        if self.flush_timeout_s <= 0 or self.metadata_timeout_s <= 0:
            raise ValueError("flush_timeout_s and metadata_timeout_s must be > 0")
        if not self.outage_limit_s >= 1:
            raise ValueError(f"outage_limit_s must be >= 1 s, got {self.outage_limit_s}")
        if self.start_prices is not None and not all(p > 0 for p in self.start_prices.values()):
            raise ValueError("start_prices must be > 0")
        if self.start_seqs is not None and not all(q >= 0 for q in self.start_seqs.values()):
            raise ValueError("start_seqs must be >= 0")

    @property
    def effective_clock(self) -> Clock:
        return self.clock or ("wall" if self.mode == "live" else "simulated")

    @property
    def effective_intensity(self) -> float:
        return self.intensity or (self.rate if self.rate > 0 else 1000.0)

    def start_or_now(self) -> datetime:
        return self.start or datetime.now(UTC)


@dataclass
class RunResult:
    """Counts of one run. ``delivered`` were acknowledged by the broker (acks=all); ``failed`` are the
    undelivered ticks: not acknowledged (timed out after the outage limit, rejected, purged at the flush
    timeout, or never queued because the run stopped); ``sent`` = delivered + failed after a complete
    flush. ``seed``, ``start_prices`` and ``start_seqs`` are what the run started from (to reproduce it)."""

    topic: str
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    duration_s: float = 0.0
    stop_reason: str = ""
    first_event_time: str | None = None
    last_event_time: str | None = None
    errors: list[str] = field(default_factory=list)
    seed: int | None = None
    start_prices: dict[str, float] | None = None
    start_seqs: dict[str, int] | None = None
    last_prices: dict[str, float] | None = None

    @property
    def rate(self) -> float:
        """Acknowledged ticks per second over the whole run."""
        return self.delivered / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rate"] = round(self.rate, 1)
        d["duration_s"] = round(self.duration_s, 3)
        return d
