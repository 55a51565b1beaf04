"""Request and lifecycle hooks the server runs for the services.

Why: persistence must follow writes, but moto's responses know nothing of it. Rather than wrap
every action, the WSGI layer calls the after-write hooks after each non-read request; each service
decides cheaply whether the request concerned it. Shutdown hooks run in reverse install order (the
last service installed stops first, as with ``atexit``), so a service stops before those it reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

AfterWriteHook = Callable[[dict[str, Any]], None]
ShutdownHook = Callable[[], None]
_after_write: list[AfterWriteHook] = []
_shutdown: list[ShutdownHook] = []


def register_after_write(hook: AfterWriteHook) -> None:
    """Call ``hook(environ)`` after every POST/PUT/DELETE/PATCH request has been handled."""
    _after_write.append(hook)


def run_after_write(environ: dict[str, Any]) -> None:
    """Run every hook; a failing hook is logged, never turned into a client error."""
    for hook in _after_write:
        try:
            hook(environ)
        except Exception:
            log.exception("after-write hook %s failed", getattr(hook, "__name__", hook))


def register_shutdown(hook: ShutdownHook) -> None:
    """Call ``hook()`` when the endpoint stops, before the final save of every service's state."""
    _shutdown.append(hook)


def run_shutdown() -> None:
    """Run the shutdown hooks, last registered first; one failing hook does not skip the others."""
    for hook in reversed(_shutdown):
        try:
            hook()
        except Exception:
            log.exception("shutdown hook %s failed", getattr(hook, "__name__", hook))


def amz_target(environ: dict[str, Any]) -> str:
    """The ``X-Amz-Target`` of a JSON-protocol request (e.g. ``AWSGlue.CreateTable``), or ''."""
    return str(environ.get("HTTP_X_AMZ_TARGET", ""))


def action_of(environ: dict[str, Any], prefix: str) -> str | None:
    """The action of a JSON-protocol request for the service whose target starts with ``prefix``
    (``AWSGlue.``, ``AmazonAthena.``), or None for another service's request."""
    target = amz_target(environ)
    return target[len(prefix) :] if target.startswith(prefix) else None
