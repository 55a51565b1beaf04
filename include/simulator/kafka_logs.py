"""librdkafka's logs and errors through Python logging, rate-limited, so an outage is a few lines.

Why: without a ``logger`` in its config, librdkafka writes to the process's stderr from its own threads,
at ERROR level for every failed connection attempt (about 40 lines a second per client while a broker
is down; a task log showed 1,140 in 30 s). With ``logger`` set, confluent-kafka serves those lines from
``poll()``/``flush()`` on the caller's thread as Python log records; this module passes them through a
filter that lets the first of each kind through at once, then at most one per ``interval_s`` with how
many were suppressed. A broker that cannot be reached is an expected, transient condition for a client
that retries: librdkafka's lines are capped at WARNING. Whoever gives up (the simulator when a tick
exceeds its delivery timeout, a task that fails) logs the ERROR, once.

Also here: :func:`client_config`, which drops consumer-only properties from a configuration meant for
a producer or an AdminClient (an Airflow Kafka connection carries ``group.id`` for the consumers), so
librdkafka does not warn that they "will be ignored by this producer instance".
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

LIBRDKAFKA_LOGGER = "librdkafka"
SUPPRESS_INTERVAL_S = 30.0

# librdkafka properties that only consumers use; a producer or an AdminClient warns about each.
CONSUMER_ONLY_KEYS = frozenset(
    {
        "group.id",
        "group.instance.id",
        "group.protocol",
        "group.protocol.type",
        "group.remote.assignor",
        "auto.offset.reset",
        "enable.auto.commit",
        "auto.commit.interval.ms",
        "enable.auto.offset.store",
        "session.timeout.ms",
        "heartbeat.interval.ms",
        "max.poll.interval.ms",
        "coordinator.query.interval.ms",
        "partition.assignment.strategy",
        "isolation.level",
        "fetch.min.bytes",
        "fetch.max.bytes",
        "fetch.wait.max.ms",
        "fetch.error.backoff.ms",
        "fetch.queue.backoff.ms",
        "fetch.message.max.bytes",
        "max.partition.fetch.bytes",
        "queued.min.messages",
        "queued.max.messages.kbytes",
        "enable.partition.eof",
        "check.crcs",
        "on_commit",
    }
)

# Digits, addresses and librdkafka's "(after 0ms in state CONNECT, 3 identical error(s) suppressed)" tail
# differ between repeats of the same condition; they are left out of the key that groups repeats.
_VARIABLE = re.compile(r"\(after .*?\)|\d+")


class RateLimitFilter(logging.Filter):
    """Lets the first record of each kind through, then one per `interval_s` saying how many were held back."""

    def __init__(self, interval_s: float = SUPPRESS_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._seen: dict[tuple[int, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, _VARIABLE.sub("#", record.getMessage()))
        now = self._clock()
        with self._lock:
            last, suppressed = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval_s:
                self._seen[key] = (last, suppressed + 1)
                return False
            self._seen[key] = (now, 0)
        if suppressed:
            record.msg = f"{record.getMessage()} ({suppressed} similar messages in the last {now - last:.0f} s)"
            record.args = None
        return True


class _CappedLogger(logging.Logger):
    """librdkafka's ERROR lines become WARNING (see the module docstring); everything is rate-limited."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        super().log(min(level, logging.WARNING), msg, *args, **kwargs)


_lock = threading.Lock()


def librdkafka_logger() -> logging.Logger:
    """The one logger every client built here hands to librdkafka (``logger`` in its config)."""
    with _lock:
        existing = logging.Logger.manager.loggerDict.get(LIBRDKAFKA_LOGGER)
        if isinstance(existing, _CappedLogger):
            return existing
        logger = _CappedLogger(LIBRDKAFKA_LOGGER)
        logger.parent = logging.getLogger()
        logger.addFilter(RateLimitFilter())
        logging.Logger.manager.loggerDict[LIBRDKAFKA_LOGGER] = logger
        return logger


def rate_limited(name: str, interval_s: float = SUPPRESS_INTERVAL_S) -> logging.Logger:
    """A child logger of ``name`` whose repeats are rate-limited (for error callbacks)."""
    logger = logging.getLogger(f"{name}.ratelimited")
    if not any(isinstance(f, RateLimitFilter) for f in logger.filters):
        logger.addFilter(RateLimitFilter(interval_s))
    return logger


def log_client_error(err: Any) -> None:
    """An ``error_cb`` for clients that retry by themselves: one WARNING per kind of error per interval."""
    rate_limited(LIBRDKAFKA_LOGGER).warning("Kafka client error: %s", err)


def client_config(config: Mapping[str, Any], *, consumer: bool = False) -> dict[str, Any]:
    """`config` with librdkafka's logs and errors routed through rate-limited Python logging.

    For a producer or an AdminClient (``consumer=False``) consumer-only properties are dropped.
    An explicit ``logger`` or ``error_cb`` in `config` is kept.
    """
    out = {k: v for k, v in config.items() if consumer or k not in CONSUMER_ONLY_KEYS}
    out.setdefault("logger", librdkafka_logger())
    if out.get("error_cb") is None:
        out["error_cb"] = log_client_error
    return out
