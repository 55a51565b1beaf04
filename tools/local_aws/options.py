"""Start-up options shared by the endpoint and the service extensions (Glue, Athena).

Kept in its own tiny module so every extension can import it without importing the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EndpointOptions:
    """How the endpoint was started.

    ``state_dir`` is None when nothing is persisted (pure in-memory, like plain moto).
    ``sync_wait`` is how long a StartCrawler call waits for the crawl to finish before replying.
    """

    host: str
    port: int
    state_dir: Path | None
    sync_wait: float
    account_id: str = "123456789012"
    region: str = "us-east-1"
