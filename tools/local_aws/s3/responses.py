"""The S3 response moto builds badly for disk-backed bodies: a ranged GET.

moto answers a ranged GET by reading the whole body and slicing it; for a key whose body is a
file, the response is given a :class:`~local_aws.s3.bodies.LazyBody` instead, so only the
requested range is read.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.s3.models import FakeKey
from moto.s3.responses import S3Response

from local_aws.s3.bodies import DiskBuffer, LazyBody

_tls = threading.local()  # .ranged_get: this thread is answering a ranged GET


def install() -> None:
    """Patch ``FakeKey.value`` (read lazily during a ranged GET) and ``S3Response.key_response``."""
    value_property = FakeKey.value

    def lazy_value(self: FakeKey) -> Any:
        buf = self._value_buffer
        if getattr(_tls, "ranged_get", False) and isinstance(buf, DiskBuffer):
            return LazyBody(buf.path, self.contentsize)
        return value_property.fget(self)  # type: ignore[attr-defined]

    FakeKey.value = property(lazy_value, value_property.fset)  # type: ignore[method-assign,assignment]
    original_key_response = S3Response.key_response

    def key_response(self: S3Response, request: Any, full_url: str, headers: Any) -> Any:
        ranged = request.method == "GET" and request.headers.get("range") and "partNumber" not in full_url
        _tls.ranged_get = bool(ranged)
        try:
            status, response_headers, content = original_key_response(self, request, full_url, headers)
        finally:
            _tls.ranged_get = False
        if isinstance(content, LazyBody):  # the range was not applicable: send the whole body
            content = content.read_all()
        return status, response_headers, content

    S3Response.key_response = key_response  # type: ignore[method-assign]
