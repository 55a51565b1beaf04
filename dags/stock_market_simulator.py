"""
# Stock market: simulator

Produces simulated US equity **quotes and trades** (JSON, keyed by symbol, schema version 1) into the
pipeline's Kafka topic (`PIPELINE_TOPIC`, default `stock_market_data`) through the Kafka connection
`PIPELINE_KAFKA_CONN_ID` (default `kafka_default`), with `acks=all`, idempotence and zstd compression.
Before producing it makes sure the topic exists the way setup creates it (`market_pipeline.setup.topic`):
a missing topic is created with the pipeline's configs; an existing one must use broker append time
(LogAppendTime), or the run fails with the reason (fix the topic or run `stock_market_setup`).

**Schedule:** `@continuous` with `max_active_runs=1`: when a run ends (after `duration_s`) the next
starts, so the feed never stops while the DAG is unpaused. New DAGs start paused: unpause to start.

**Params** (trigger form): `rate` ticks/s (0 = as fast as possible), `duration_s` (at most 6 hours: one regular session),
`universe` (`default` = 20 liquid US stocks, or e.g. `AAPL,MSFT`), `seed` (same seed, same prices),
`mode` (`live` = model, `replay` = daily bars from `replay_file`, a CSV path on the worker, at
`replay_speed` x trading time when `rate` is 0), `always_open` (ignore the 09:30-16:00 New York
session and weekends; on by default so demos work at any hour).

**Return value (XCom):** `delivered`, `failed`, `sent`, `duration_s`, `rate`, `stop_reason`. The task
fails if any message was not acknowledged (after reporting the counts in the `result` XCom).

**How to stop:** pause the DAG (no new runs), then mark the running task *success* or *failed* in the
UI: Airflow sends SIGTERM, the simulator stops producing, flushes (at most 4 s) and exits cleanly.
"""

from __future__ import annotations

from datetime import timedelta
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
    max_active_runs=1,
    catchup=False,
    default_args=defaults.default_args(settings),
    tags=[*defaults.TAGS, "simulator"],
    doc_md=__doc__,
    params={
        "rate": Param(
            1000,
            type="number",
            minimum=0,
            maximum=1_000_000,
            description="Target ticks per second (all symbols). 0 = as fast as possible.",
        ),
        "duration_s": Param(
            300,
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
            description="Random seed: the same seed gives the same price paths.",
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

    @task(execution_timeout=timedelta(seconds=MAX_DURATION_S + 600))
    def simulate(params: dict[str, Any] | None = None, ti: Any = None) -> dict[str, Any]:
        """Run the simulator for one run's duration; SIGTERM (stop from the UI) flushes and returns."""
        # Heavy imports (numpy, pyarrow, confluent-kafka) only when the task runs, not at DAG parse.
        from airflow.sdk.exceptions import AirflowFailException

        from market_pipeline.setup.topic import TopicConflictError, ensure_topic_exists, pipeline_topic_spec
        from pipeline_airflow.kafka import admin_client, producer_config
        from simulator import SimulatorConfig, run

        p = params or {}
        if p["mode"] == "replay" and not p.get("replay_file"):
            raise ValueError("Param replay_file is required when mode is 'replay'")
        config = SimulatorConfig(
            topic=settings.topic,
            mode=p["mode"],
            universe=p["universe"].replace(" ", ""),
            seed=int(p["seed"]),
            rate=float(p["rate"]),
            speed=float(p["replay_speed"]),
            duration_s=float(p["duration_s"]),
            replay_file=p.get("replay_file"),
            always_open=bool(p["always_open"]),
            flush_timeout_s=4.0,  # Airflow escalates SIGTERM to SIGKILL after 5 s
        )
        try:
            ensure_topic_exists(
                admin_client(settings.kafka_conn_id), pipeline_topic_spec(settings), timeout=config.metadata_timeout_s
            )
        except TopicConflictError as exc:
            raise AirflowFailException(str(exc)) from exc  # a retry would meet the same topic
        result = run(config, producer_config(settings.kafka_conn_id)).to_dict()
        if result["failed"]:
            ti.xcom_push(key="result", value=result)
            raise RuntimeError(
                f"{result['failed']} of {result['sent']} ticks were not acknowledged: {result['errors'][:3]}"
            )
        return result

    simulate()
