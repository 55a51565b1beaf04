"""Athena's failure vocabulary: a query fails with a Trino error name, a position and a message.

Kept apart so that every layer (translation, catalog, engine) can raise the same error and the
state machine can turn it into ``Status.StateChangeReason`` and ``Status.AthenaError``.
"""

from __future__ import annotations

import json

from moto.core.exceptions import JsonRESTError

# ErrorCategory values (API reference): 1 system, 2 user, 3 other.
CATEGORY_SYSTEM = 1
CATEGORY_USER = 2

# ErrorType values from Athena's error catalogue that matter here.
TYPE_INTERNAL = 200
TYPE_RESULT_WRITE = 401
TYPE_USER = 1000
TYPE_DATA = 1001
TYPE_DDL = 1003
TYPE_SYNTAX = 1006  # also used by Athena for semantic errors (missing table/column)


class QueryFailed(Exception):
    """A query failure as Athena reports it (``NAME: line L:C: message``)."""

    def __init__(
        self,
        name: str,
        message: str,
        *,
        position: tuple[int, int] | None = None,
        error_type: int = TYPE_SYNTAX,
        category: int = CATEGORY_USER,
        retryable: bool = False,
    ) -> None:
        self.name = name
        self.detail = message
        self.position = position
        self.error_type = error_type
        self.category = category
        self.retryable = retryable
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        where = f"line {self.position[0]}:{self.position[1]}: " if self.position else ""
        prefix = f"{self.name}: " if self.name else ""
        return f"{prefix}{where}{self.detail}"

    def athena_error(self) -> dict[str, object]:
        return {
            "ErrorCategory": self.category,
            "ErrorType": self.error_type,
            "Retryable": self.retryable,
            "ErrorMessage": self.reason,
        }


class InvalidRequestException(JsonRESTError):
    """Athena's API-level error (bad id, bad parameters, missing output location)."""

    code = 400

    def __init__(self, message: str, athena_error_code: str | None = None) -> None:
        super().__init__("InvalidRequestException", message)
        if athena_error_code:
            self.description = json.dumps(
                {"__type": "InvalidRequestException", "Message": message, "AthenaErrorCode": athena_error_code}
            )


class MetadataException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("MetadataException", message)
