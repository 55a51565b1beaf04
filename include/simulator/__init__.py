"""Market simulator: a standalone tool that produces realistic stock ticks into Kafka.

Public API::

    from simulator import SimulatorConfig, run
    result = run(SimulatorConfig(topic="ticks", rate=1000, duration_s=60),
                 {"bootstrap.servers": "127.0.0.1:9092"})
    result.delivered, result.failed

It deliberately imports nothing from the pipeline library (market_pipeline): it is usable on its own
(``python -m simulator --help``) and the pipeline must not be needed to generate test traffic.
Attributes are imported lazily so that ``import simulator.universe`` (e.g. at DAG parse time) does
not pull in numpy, pyarrow and confluent-kafka.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.config import RunResult, SimulatorConfig
    from simulator.producer import BrokerUnavailable, TopicMissing, build_producer_config
    from simulator.runner import run

_EXPORTS = {
    "RunResult": "simulator.config",
    "SimulatorConfig": "simulator.config",
    "BrokerUnavailable": "simulator.producer",
    "TopicMissing": "simulator.producer",
    "build_producer_config": "simulator.producer",
    "run": "simulator.runner",
}

__all__ = ["BrokerUnavailable", "RunResult", "SimulatorConfig", "TopicMissing", "build_producer_config", "run"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
