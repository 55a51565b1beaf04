"""Command line: ``python -m simulator --help``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from datetime import datetime

from simulator.config import DEFAULT_TOPIC, SimulatorConfig
from simulator.continuity import LastTick, continue_from
from simulator.universe import DEFAULT_SYMBOLS

EPILOG = f"""
examples:
  python -m simulator --bootstrap-servers 127.0.0.1:9092 --rate 1000 --duration 60 --always-open
  python -m simulator -b 127.0.0.1:9092 --rate 0 --count 1000000 --clock simulated \\
      --start 2026-11-24T14:30:00Z --json
  python -m simulator -b 127.0.0.1:9092 --mode replay --replay-file indexProcessed.csv --rate 0
  python -m simulator -b broker:9093 -X security.protocol=SSL -X linger.ms=5 ...

default universe: {",".join(DEFAULT_SYMBOLS)}
the live mode follows the US session (09:30-16:00 New York, weekdays, NYSE holidays): outside it,
it waits for the open; pass --always-open for demos at any hour.
exit status: 0 all delivered, 1 some deliveries failed, 2 usage/config error, 3 broker unreachable or
topic missing. SIGINT/SIGTERM stop the run after flushing (a second signal aborts).
"""


def _datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a timezone (e.g. ...Z or +00:00)")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulate US equity quotes and trades (or replay daily bars) into a Kafka topic.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    k = p.add_argument_group("Kafka")
    k.add_argument("-b", "--bootstrap-servers", help="host:port[,host:port]; or give it with -X")
    k.add_argument("-t", "--topic", default=DEFAULT_TOPIC, help="target topic (default %(default)s)")
    k.add_argument(
        "-X",
        dest="overrides",
        action="append",
        metavar="KEY=VALUE",
        help="librdkafka property, repeatable (e.g. -X compression.type=zstd)",
    )
    k.add_argument("--create-topic", action="store_true", help="create the topic (LogAppendTime) if it does not exist")
    k.add_argument("--partitions", type=int, default=3, help="partitions for --create-topic")
    k.add_argument("--flush-timeout", type=float, default=10.0, help="seconds to wait for acks at the end")
    k.add_argument(
        "--metadata-timeout", type=float, default=10.0, help="seconds to wait for the broker before giving up"
    )
    m = p.add_argument_group("simulation")
    m.add_argument("--mode", choices=["live", "replay"], default="live")
    m.add_argument("--universe", default="default", help="comma-separated symbols or 'default'")
    m.add_argument("--seed", type=int, default=0, help="same seed, same ticks")
    m.add_argument("--rate", type=float, default=1000.0, help="ticks per second; 0 = as fast as possible")
    m.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="with --rate 0: play simulated trading time at this multiple of real time",
    )
    m.add_argument("--duration", type=float, help="stop after this many seconds")
    m.add_argument("--count", type=int, help="stop after this many ticks")
    m.add_argument(
        "--clock",
        choices=["wall", "simulated"],
        help="event_time from the wall clock at emission (live default) or the simulated "
        "clock from --start (replay default)",
    )
    m.add_argument("--start", type=_datetime, help="simulated clock start, e.g. 2026-11-24T14:30:00Z")
    m.add_argument("--always-open", action="store_true", help="ignore the trading calendar (demos)")
    m.add_argument("--no-holidays", action="store_true", help="trade on NYSE holidays")
    m.add_argument("--intensity", type=float, help="ticks per simulated second (default: --rate or 1000)")
    m.add_argument("--replay-file", help="CSV: date,symbol,open,high,low,close,volume or indexProcessed.csv")
    m.add_argument("--ticks-per-bar", type=int, default=390, help="replay ticks per daily bar")
    m.add_argument(
        "--continue",
        dest="continue_feed",
        action="store_true",
        help="go on from the topic's tail: number each symbol's ticks after its last seq and (live) start at its "
        "last price; use it to feed the pipeline's topic by hand (bars take open and close by seq)",
    )
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print the result summary as JSON")
    o.add_argument("--progress-interval", type=float, default=5.0, help="seconds between progress lines")
    o.add_argument("-q", "--quiet", action="store_true", help="warnings only")
    return p


def _topic_tail(client_config: dict[str, str], topic: str, timeout_s: float) -> dict[str, LastTick]:
    """Each symbol's last price and seq on the topic (empty for an empty or missing topic)."""
    from confluent_kafka import Consumer, KafkaException

    from simulator.continuity import last_ticks
    from simulator.producer import BrokerUnavailable

    # Producer-only -X settings are ignored by a consumer, with a librdkafka warning.
    consumer = Consumer(
        {**client_config, "group.id": f"simulator-tail-{uuid.uuid4().hex}", "enable.auto.commit": False}
    )
    try:
        return last_ticks(consumer, topic, None, timeout_s=timeout_s)
    except KafkaException as exc:
        servers = client_config.get("bootstrap.servers")
        raise BrokerUnavailable(
            f"Kafka broker(s) at {servers} did not answer within {timeout_s:.0f}s ({exc.args[0]}) while reading "
            "the topic's tail for --continue; is the broker running and is bootstrap.servers right?"
        ) from None
    finally:
        consumer.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from simulator.producer import BrokerUnavailable, TopicMissing, parse_overrides
    from simulator.runner import run

    try:
        overrides = parse_overrides(args.overrides)
        connection = {"bootstrap.servers": args.bootstrap_servers} if args.bootstrap_servers else {}
        tail = _topic_tail({**connection, **overrides}, args.topic, args.metadata_timeout) if args.continue_feed else {}
        config = SimulatorConfig(
            topic=args.topic,
            mode=args.mode,
            universe=args.universe,
            seed=args.seed,
            rate=args.rate,
            speed=args.speed,
            duration_s=args.duration,
            max_ticks=args.count,
            clock=args.clock,
            start=args.start,
            always_open=args.always_open,
            holidays=not args.no_holidays,
            intensity=args.intensity,
            replay_file=args.replay_file,
            ticks_per_bar=args.ticks_per_bar,
            progress_interval_s=args.progress_interval,
            flush_timeout_s=args.flush_timeout,
            metadata_timeout_s=args.metadata_timeout,
            create_topic=args.create_topic,
            topic_partitions=args.partitions,
            **continue_from(tail, prices=args.mode == "live"),
        )
        result = run(config, {**connection, **overrides})
    except (BrokerUnavailable, TopicMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ValueError as exc:  # includes ReplayFileError and unknown symbols
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(
            f"delivered={result.delivered} failed={result.failed} sent={result.sent} "
            f"duration={result.duration_s:.2f}s rate={result.rate:.0f} ticks/s stop={result.stop_reason}"
        )
    return 1 if result.failed else 0
