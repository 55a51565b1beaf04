"""The clients the page needs, as a protocol: the Airflow plugin passes ones built from Airflow's
connections (pipeline_airflow.ui_clients.HookClients); tests pass their own.
"""

from __future__ import annotations

from typing import Any, Protocol


class Clients(Protocol):
    """What the app needs; tests may pass their own implementation."""

    def kafka_admin(self) -> Any: ...

    def s3(self) -> Any: ...

    def athena(self) -> Any: ...

    # Optional: `kafka_committed(partitions, timeout)` reads the group's committed offsets through a
    # consumer of that group; `kafka_failed()` drops Kafka clients after a failure; `simulator_runs(limit)`
    # lists the simulator's newest runs with their summary or progress XCom (see HookClients).
