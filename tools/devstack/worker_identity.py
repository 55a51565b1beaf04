"""The host name a local Celery worker reports for its task instances (`[core] hostname_callable`).

Two workers on one machine share its host name, so Airflow's `task_instance.hostname` could not tell
them apart; each local worker gets its own name in `DEVSTACK_WORKER_HOSTNAME` (devstack sets it), as
containers or Kubernetes pods have their own. Anything else falls back to Airflow's default, the FQDN.
Task logs are read from the shared local log folder, so the name need not resolve.
"""

from __future__ import annotations

import os
import socket

HOSTNAME_ENV = "DEVSTACK_WORKER_HOSTNAME"


def hostname() -> str:
    return os.environ.get(HOSTNAME_ENV, "").strip() or socket.getfqdn()
