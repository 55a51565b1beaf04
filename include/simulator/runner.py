"""The run loop: pull ticks from a source, pace them, stamp event times, encode, produce, account.

Separate from the model and the producer so that the stopping rules (duration, count, end of replay,
stop event, SIGINT/SIGTERM, a caller's progress hook, a tick the broker never acknowledged) live in one
place and are the same for the CLI and the DAG; how fast ticks may go is pacing.py's.

Broker outages: ticks keep being generated and queued while the broker is away; librdkafka delivers
them when it is back, in order and once (idempotent producer). A tick still unacknowledged after the
outage limit fails its delivery: the run then stops producing, waits out the rest of its queue within
the same limit and reports every unacknowledged tick as undelivered (``failed``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.calendar import SessionClock, TradingCalendar, to_us
from simulator.config import RunResult, SimulatorConfig
from simulator.encode import JsonEncoder, iso_us
from simulator.model import PRICE_SCALE, MarketModel, ModelConfig, TickBlock
from simulator.pacing import Feed, Pacer
from simulator.producer import KafkaSink, build_producer_config
from simulator.universe import parse_universe

log = logging.getLogger("simulator")


@dataclass
class _Chunk:
    values: list[bytes]
    keys: list[bytes]
    first_us: int
    last_us: int


def make_source(
    config: SimulatorConfig, calendar: TradingCalendar | None = None, now_us: int | None = None
) -> tuple[tuple[str, ...], Iterator[TickBlock]]:
    """The symbol table and the block stream for a config (model or replay).

    `calendar` is the run's trading calendar (built from the config when not given).
    """
    if config.mode == "replay":
        from simulator.replay import ReplaySource, load_bars

        bars = load_bars(config.replay_file or "")
        if config.universe not in ("default", "", None):
            wanted = (
                [s.strip() for s in config.universe.split(",") if s.strip()]
                if isinstance(config.universe, str)
                else list(config.universe)
            )
            missing = [s for s in wanted if s not in bars.symbols]
            if missing:
                raise ValueError(f"symbols {missing} are not in {config.replay_file} (it has {bars.symbols})")
            keep = np.isin(np.array(bars.symbols)[bars.sym], wanted)
            from dataclasses import replace

            bars = replace(
                bars, **{f: getattr(bars, f)[keep] for f in ("day", "sym", "open", "high", "low", "close", "volume")}
            )
        source = ReplaySource(bars, seed=config.seed, ticks_per_bar=config.ticks_per_bar, start_seqs=config.start_seqs)
        return source.symbols, source.blocks()
    calendar = calendar or trading_calendar(config)
    if config.effective_clock == "wall":
        now = now_us if now_us is not None else time.time_ns() // 1000
        start_us = calendar.next_open_us(now)
    else:
        start_us = to_us(config.start_or_now())
    instruments = parse_universe(config.universe)
    if config.start_prices:
        instruments = tuple(
            dataclasses.replace(i, price=float(config.start_prices[i.symbol])) if i.symbol in config.start_prices else i
            for i in instruments
        )
    model = MarketModel(
        ModelConfig(instruments=instruments, seed=config.seed, intensity=config.effective_intensity),
        SessionClock(calendar, start_us),
        start_seqs=config.start_seqs,
    )
    return model.symbols, model.blocks(config.block_size)


def trading_calendar(config: SimulatorConfig) -> TradingCalendar:
    return TradingCalendar(always_open=config.always_open, holidays=config.holidays)


# A task stopped with its process group gets SIGTERM twice at once (from the group signal and from
# Airflow's supervisor, which forwards it): a second signal this soon is the same request.
DUPLICATE_SIGNAL_WINDOW_S = 2.0


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event, enabled: bool) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the loop then flushes); a later second signal aborts at once.

    Airflow stops a task with SIGTERM (its handler calls the operator's on_kill), so the previous
    Python handler is chained after setting the event. Signals can only be handled in the main thread;
    elsewhere the caller's stop_event is the way to stop. A second signal within
    ``DUPLICATE_SIGNAL_WINDOW_S`` of the first is taken as a duplicate (see above), not as "abort".
    """
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    first_at: list[float] = []

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            if first_at and time.monotonic() - first_at[0] < DUPLICATE_SIGNAL_WINDOW_S:
                return
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: aborting without flush")
        log.info("received %s: stopping after a flush", signal.Signals(signum).name)
        first_at.append(time.monotonic())
        stop.set()
        prev = previous.get(signal.Signals(signum))
        if callable(prev) and prev is not signal.default_int_handler:
            prev(signum, frame)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, prev in previous.items():
            signal.signal(sig, prev)


ProgressHook = Callable[[dict[str, Any]], str | None]


def run(
    config: SimulatorConfig,
    producer_config: Mapping[str, Any],
    stop_event: threading.Event | None = None,
    on_progress: ProgressHook | None = None,
) -> RunResult:
    """Produce ticks to Kafka until the run ends; always flushes (bounded) before returning.

    ``producer_config`` is a librdkafka config dict (``bootstrap.servers`` at least), e.g. the extra
    of an Airflow Kafka connection; defaults for acks, idempotence, compression and batching are
    applied under it, and ``message.timeout.ms`` is the config's outage limit. Raises BrokerUnavailable /
    TopicMissing before producing anything.

    ``on_progress(counts)`` is called on this thread every ``progress_interval_s`` with the counts so
    far (sent, delivered, failed, in_flight); returning a string stops the run with that stop reason.
    """
    stop = stop_event or threading.Event()
    result = RunResult(
        topic=config.topic,
        seed=config.seed,
        start_prices=dict(config.start_prices) if config.start_prices else None,
        start_seqs=dict(config.start_seqs) if config.start_seqs else None,
    )
    calendar = trading_calendar(config)
    symbols, blocks = make_source(config, calendar)
    encoder = JsonEncoder(symbols)
    timeout_ms = {"message.timeout.ms": int(config.outage_limit_s * 1000)}
    sink = KafkaSink(build_producer_config(producer_config, timeout_ms), config.topic)
    sink.preflight(config.metadata_timeout_s, config.create_topic, config.topic_partitions)
    feed = Feed(blocks)
    wall = config.effective_clock == "wall"
    gate = wall and config.mode == "live" and not calendar.always_open
    log.info(
        "simulator: topic=%s mode=%s clock=%s rate=%s speed=%s duration=%s max_ticks=%s symbols=%d seed=%d "
        "outage_limit=%.0fs",
        config.topic,
        config.mode,
        "wall" if wall else "simulated",
        config.rate,
        config.speed,
        config.duration_s,
        config.max_ticks,
        len(symbols),
        config.seed,
        config.outage_limit_s,
    )

    t0 = time.monotonic()
    deadline = t0 + config.duration_s if config.duration_s else None
    pacer = Pacer(
        rate=config.rate,
        speed=config.speed,
        max_ticks_per_step=config.block_size,
        start=t0,
        session=calendar if gate else None,
    )
    emitted = 0
    last_stamp = time.time_ns() // 1000
    last_progress, last_progress_count = t0, 0
    first_us: int | None = None
    last_us: int | None = None
    last_price = np.zeros(len(symbols), dtype=np.int64)  # PRICE_SCALE units; 0 = no tick yet

    def prepare(n: int) -> _Chunk | None:
        """Take up to n ticks, stamp them (wall clock) and encode them."""
        nonlocal last_stamp
        block = feed.take(n)
        if block is None:
            return None
        if wall:
            now_us = max(time.time_ns() // 1000, last_stamp)
            block.event_us = np.linspace(last_stamp, now_us, len(block) + 1)[1:].astype(np.int64)
            last_stamp = now_us
        # Each symbol's newest price (the reversed array's first occurrence is the last tick).
        sym, index = np.unique(block.sym[::-1], return_index=True)
        last_price[sym] = block.price[::-1][index]
        return _Chunk(encoder.encode(block), encoder.keys(block), int(block.event_us[0]), int(block.event_us[-1]))

    last_poll = t0

    def wait(seconds: float) -> None:
        sink.poll(0)
        if seconds > 0:
            stop.wait(min(seconds, 0.25))

    with _stop_on_signals(stop, config.install_signal_handlers):
        try:
            while True:
                now = time.monotonic()
                if stop.is_set():
                    result.stop_reason = "stopped"
                    break
                if sink.fatal_error:
                    result.stop_reason = "fatal Kafka error"
                    break
                if sink.failed:
                    result.stop_reason = (
                        f"ticks undelivered: the broker did not acknowledge them within the outage limit "
                        f"({config.outage_limit_s:.0f} s)"
                    )
                    break
                if deadline is not None and now >= deadline:
                    result.stop_reason = "duration"
                    break
                if config.max_ticks is not None and emitted >= config.max_ticks:
                    result.stop_reason = "max_ticks"
                    break
                if now - last_progress >= config.progress_interval_s:
                    interval_rate = (emitted - last_progress_count) / (now - last_progress)
                    log.info(
                        "progress: sent=%d delivered=%d failed=%d in_flight=%d rate=%.0f ticks/s",
                        sink.sent,
                        sink.delivered,
                        sink.failed,
                        sink.in_flight,
                        interval_rate,
                    )
                    last_progress, last_progress_count = now, emitted
                    if on_progress is not None:
                        counts = {"sent": sink.sent, "delivered": sink.delivered, "failed": sink.failed}
                        reason = on_progress({**counts, "in_flight": sink.in_flight})
                        if reason:
                            result.stop_reason = reason
                            break
                step = pacer.step(feed, emitted, now, time.time_ns() // 1000)
                if step.restart_stamps_us is not None:
                    last_stamp = step.restart_stamps_us
                if step.end:
                    result.stop_reason = "end of replay"
                    break
                if step.wait_s > 0 or step.ticks == 0:
                    wait(step.wait_s)
                    continue
                n = step.ticks
                if config.max_ticks is not None:
                    n = min(n, config.max_ticks - emitted)
                chunk = prepare(n)
                if chunk is None:
                    result.stop_reason = "end of replay"
                    break
                if first_us is None:
                    first_us = chunk.first_us
                last_us = chunk.last_us
                sink.send(
                    chunk.values,
                    chunk.keys,
                    abort=lambda: (
                        stop.is_set() or sink.failed > 0 or (deadline is not None and time.monotonic() >= deadline)
                    ),
                )
                emitted += len(chunk.keys)
                if time.monotonic() - last_poll > 0.05:
                    sink.poll(0)
                    last_poll = time.monotonic()
        finally:
            # Stopped by a signal: Airflow kills the task 5 s after SIGTERM, so the flush is short. Otherwise
            # queued ticks may still wait out an outage: librdkafka times each out at the limit itself.
            stopped = result.stop_reason in ("stopped", "")
            remaining = sink.flush(
                config.flush_timeout_s if stopped else config.outage_limit_s + 5,
                cut_short=lambda: config.flush_timeout_s if stop.is_set() else None,
            )
            result.duration_s = time.monotonic() - t0
            result.sent = sink.sent
            result.failed = sink.failed + remaining
            result.delivered = max(0, sink.sent - result.failed)
            result.errors = list(sink.errors)
            if first_us is not None and last_us is not None:
                result.first_event_time, result.last_event_time = iso_us(first_us), iso_us(last_us)
            result.last_prices = {
                symbols[i]: round(int(p) / PRICE_SCALE, 4) for i, p in enumerate(last_price) if p > 0
            } or None
            if not result.stop_reason:
                result.stop_reason = "aborted"
    log.info("simulator done: %s", result.to_dict())
    return result
