"""
# Stock market: simulator

Produces simulated US equity **quotes and trades** (JSON, keyed by symbol, schema version 1) into the
pipeline's Kafka topic (`PIPELINE_TOPIC`, default `stock_market_data`) through the Kafka connection
`PIPELINE_KAFKA_CONN_ID` (default `kafka_default`), with `acks=all`, idempotence and zstd compression.
Before producing it makes sure the topic exists the way setup creates it (`market_pipeline.setup.topic`):
a missing topic is created with the pipeline's configs; an existing one must use broker append time
(LogAppendTime), or the run fails with the reason (fix the topic or run `stock_market_setup`).

**Schedule:** `@continuous` with `max_active_runs=1`: when a run ends (after `duration_s`) the next
starts at once, so the feed never stops while the DAG is unpaused. `make up` unpauses it once setup has
succeeded, so the local stack is fed at `PIPELINE_SIMULATOR_RATE` (200 ticks/s) from the start; in a new
deployment it starts paused like every DAG: unpause it to start the feed.

**Each run continues the market:** prices start from each symbol's newest price on the topic (Param
`continue_prices`), and `seed` 0 (the default) draws a new seed per run, derived from the run id, so
consecutive runs never replay the same path. Each symbol's `seq` numbering goes on from its last tick on
the topic in every run (bars take open and close by `seq`, also in a minute two runs share). The summary
records the seed, the start prices and the start sequence numbers.

**Triggering with other Params** (the form): the running run hands over within seconds (it stops,
flushes, and ends *success* with `stop_reason` "handed over to a queued run"), then yours starts; the
continuous schedule resumes with the defaults after it. Nothing waits silently behind the current run.

**Params** (trigger form): `rate` ticks/s (0 = as fast as possible), `duration_s` (at most 6 hours: one regular session),
`universe` (`default` = 20 liquid US stocks, or e.g. `AAPL,MSFT`), `seed` (0 = new per run; > 0 = that
seed), `continue_prices`, `max_broker_outage_s`, `mode` (`live` = model, `replay` = daily bars from
`replay_file`, a CSV path on the worker, at `replay_speed` x trading time when `rate` is 0), `always_open`
(ignore the 09:30-16:00 New York session and weekends; on by default so demos work at any hour).

**Broker outages and losses:** ticks wait for the broker up to `max_broker_outage_s`
(`PIPELINE_PRODUCER_OUTAGE_LIMIT_SECONDS`, 300 s; librdkafka's `message.timeout.ms`) and are delivered
in order, once, when it is back. A tick still unacknowledged at that limit ends the run: every tick not
acknowledged is counted as **undelivered** (`failed`) and the run **fails**. A run stopped by a shutdown
(SIGTERM) flushes for at most 4 s; if ticks are left undelivered it fails too. Never *success* with a loss.

**Summary (XCom):** `summary` (always, also the return value on success) and, while running,
`progress` every 5 s: `sent`, `delivered`, `failed` (undelivered), `duration_s`, `rate`, `stop_reason`,
`seed`, `start_prices`, `start_seqs`, `last_prices`. The Market pipeline page shows them per run.

**No retries:** a run is one stretch of the feed with its own counts. A retry would start the duration
over and hide the failed try's losses (Airflow clears a task's XComs when it retries); instead the
failed run stays failed with its undelivered count, and the continuous schedule starts the next run at
once (which waits up to `max_broker_outage_s` for the broker before failing in turn).

**How to stop:** pause the DAG (no new runs), then mark the running task *success* or *failed* in the
UI: Airflow sends SIGTERM, the simulator stops producing, flushes (at most 4 s) and exits cleanly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from market_pipeline.settings import load_settings
from pipeline_airflow import defaults

settings = load_settings()
MAX_DURATION_S = 6 * 3600  # one regular session; a run longer than this is a mistake
SYMBOLS_PATTERN = r"^\s*(default|[A-Za-z0-9.^=_-]{1,16}(\s*,\s*[A-Za-z0-9.^=_-]{1,16})*)\s*$"


with DAG(
    dag_id="stock_market_simulator",
    description="Long-running market simulator producing ticks into Kafka",
    schedule="@continuous",
    # A continuous DAG needs a start_date in the past: without one, its next run gets the first run's
    # logical date and is never created ("run already exists"), so the feed stopped after one run.
    start_date=datetime(2026, 1, 1),
    max_active_runs=1,
    catchup=False,
    default_args=defaults.default_args(settings),
    tags=[*defaults.TAGS, "simulator"],
    doc_md=__doc__,
    params={
        "rate": Param(
            settings.simulator_rate,
            type="number",
            minimum=0,
            maximum=1_000_000,
            description="Target ticks per second (all symbols). 0 = as fast as possible.",
        ),
        "duration_s": Param(
            settings.simulator_duration_seconds,
            type="integer",
            minimum=1,
            maximum=MAX_DURATION_S,
            description=f"How long one run produces, in seconds (max {MAX_DURATION_S}).",
        ),
        "universe": Param(
            "default",
            type="string",
            pattern=SYMBOLS_PATTERN,
            minLength=1,
            maxLength=400,
            description="Comma-separated symbols (e.g. AAPL,MSFT,NVDA) or 'default' (20 liquid US stocks).",
        ),
        "seed": Param(
            0,
            type="integer",
            minimum=0,
            maximum=2**31 - 1,
            description="Random seed. 0: a new seed per run (derived from the run id, shown in the summary); "
            "> 0: that seed (with continue_prices off, the same seed gives the same prices).",
        ),
        "continue_prices": Param(
            True,
            type="boolean",
            description="Start each symbol at its newest price on the topic (the market continues); "
            "off: the universe's reference prices.",
        ),
        "max_broker_outage_s": Param(
            settings.producer_outage_limit_seconds,
            type="integer",
            minimum=10,
            maximum=24 * 3600,
            description="How long ticks wait for an unreachable broker before they count as undelivered "
            "and the run fails (librdkafka message.timeout.ms).",
        ),
        "mode": Param(
            "live",
            type="string",
            enum=["live", "replay"],
            description="live: simulated market; replay: intraday ticks from daily bars in replay_file.",
        ),
        "replay_file": Param(
            None,
            type=["null", "string"],
            maxLength=1024,
            description="CSV on the worker for mode=replay: date,symbol,open,high,low,"
            "close,volume or the indexProcessed.csv layout.",
        ),
        "replay_speed": Param(
            0,
            type="number",
            minimum=0,
            maximum=1_000_000,
            description="Replay pacing when rate is 0: multiple of trading time (0 = as fast as possible).",
        ),
        "always_open": Param(
            True,
            type="boolean",
            description="Ignore the US trading calendar (demos). Off: ticks only 09:30-16:00 New York on trading days.",
        ),
    },
) as dag:
    # No retries: see "No retries" above.
    @task(execution_timeout=timedelta(seconds=MAX_DURATION_S + 600), retries=0)
    def simulate(params: dict[str, Any] | None = None, ti: Any = None, run_id: str | None = None) -> dict[str, Any]:
        """Run the simulator for one run's duration; SIGTERM (stop from the UI) flushes and returns."""
        # Heavy imports (numpy, pyarrow, confluent-kafka) only when the task runs, not at DAG parse.
        from airflow.sdk.exceptions import AirflowFailException

        from market_pipeline.setup.topic import TopicConflictError, ensure_topic_exists, pipeline_topic_spec
        from pipeline_airflow.kafka import WindowConsumerHook, admin_client, producer_config
        from simulator import SimulatorConfig, run
        from simulator.continuity import HANDED_OVER, continue_from, derive_seed, last_ticks
        from simulator.universe import parse_universe

        p = params or {}
        if p["mode"] == "replay" and not p.get("replay_file"):
            raise AirflowFailException("Param replay_file is required when mode is 'replay'")
        outage_limit_s = float(p["max_broker_outage_s"])
        try:  # waits up to the outage limit for a broker that is down
            ensure_topic_exists(
                admin_client(settings.kafka_conn_id), pipeline_topic_spec(settings), timeout=outage_limit_s
            )
        except TopicConflictError as exc:
            raise AirflowFailException(str(exc)) from exc
        universe = p["universe"].replace(" ", "")
        # Every run numbers each symbol's ticks on from the topic's last seq (bars order by it); live runs
        # with continue_prices also start at the last prices.
        consumer = WindowConsumerHook(
            topics=[settings.topic], kafka_config_id=settings.kafka_conn_id, group_id=settings.consumer_group
        ).get_window_consumer()
        try:
            symbols = None if p["mode"] == "replay" else [i.symbol for i in parse_universe(universe)]
            tail = last_ticks(consumer, settings.topic, symbols)
        finally:
            consumer.close()
        config = SimulatorConfig(
            topic=settings.topic,
            mode=p["mode"],
            universe=universe,
            seed=int(p["seed"]) or derive_seed(run_id or ""),
            rate=float(p["rate"]),
            speed=float(p["replay_speed"]),
            duration_s=float(p["duration_s"]),
            replay_file=p.get("replay_file"),
            always_open=bool(p["always_open"]),
            **continue_from(tail, prices=p["continue_prices"] and p["mode"] == "live"),
            outage_limit_s=outage_limit_s,
            metadata_timeout_s=outage_limit_s,
            flush_timeout_s=4.0,  # Airflow escalates SIGTERM to SIGKILL after 5 s
        )

        def on_progress(counts: dict[str, Any]) -> str | None:
            ti.xcom_push(key="progress", value=counts)
            # A run waiting behind this one (a manual trigger, with its own Params) takes over now.
            if ti.get_dr_count(dag_id=ti.dag_id, states=["queued"]):
                return HANDED_OVER
            return None

        summary = run(config, producer_config(settings.kafka_conn_id), on_progress=on_progress).to_dict()
        ti.xcom_push(key="summary", value=summary)
        if summary["failed"]:
            raise AirflowFailException(
                f"{summary['failed']} of {summary['sent']} ticks were not delivered ({summary['stop_reason']}): "
                f"{summary['errors'][:3]}"
            )
        return summary

    simulate()
