"""Request hooks run by the server after a request that may have changed state.

Why: persistence must follow writes, but moto's responses know nothing of it. Rather than wrap
every action, the WSGI layer calls these hooks after each non-read request; each service
decides cheaply whether the request concerned it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

AfterWriteHook = Callable[[dict[str, Any]], None]
_after_write: list[AfterWriteHook] = []


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


def amz_target(environ: dict[str, Any]) -> str:
    """The ``X-Amz-Target`` of a JSON-protocol request (e.g. ``AWSGlue.CreateTable``), or ''."""
    return str(environ.get("HTTP_X_AMZ_TARGET", ""))
