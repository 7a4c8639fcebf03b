"""State-layer errors of the fake: each carries the HTTP status and Fly's error body.

The state model raises these; the HTTP layer turns them into responses in Fly's
``ErrorResponse`` shape, ``{"error": "...", "status": "<category>"}``.

    FlyApiError                  any refusal the fake answers with an error status
    ├── BadRequestError               400  malformed or invalid request
    ├── UnauthorizedError             401  missing or unknown token
    ├── ForbiddenError                403  the token's scope forbids the action
    ├── NotFoundError                 404  no such resource, or the token cannot reach it
    ├── MethodNotAllowedError         405  known path, other method
    ├── RequestTimeoutError           408  wait ran out of time
    ├── ConflictError                 409  lease held, stale current_version
    ├── PreconditionFailedError       412  impossible from the machine's current state
    ├── UnprocessableError            422  e.g. app name taken
    └── TooManyRequestsError          429  rate limit exceeded (with Retry-After)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import TypeAdapter, ValidationError


class FlyApiError(Exception):
    """A refusal the fake answers with an HTTP error status.

    Args:
        message: Fly's ``error`` text.
        category: Fly's ``status`` field (``name_taken``, ``insufficient_capacity``...).
        headers: extra response headers.
    """

    status: ClassVar[int] = 500

    def __init__(
        self,
        message: str,
        *,
        category: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """Fly's ``ErrorResponse`` body."""
        body: dict[str, Any] = {"error": self.message}
        if self.category is not None:
            body["status"] = self.category
        return body


class BadRequestError(FlyApiError):
    status = 400


class UnauthorizedError(FlyApiError):
    status = 401


class ForbiddenError(FlyApiError):
    status = 403


class NotFoundError(FlyApiError):
    status = 404


class MethodNotAllowedError(FlyApiError):
    status = 405


class RequestTimeoutError(FlyApiError):
    status = 408


class ConflictError(FlyApiError):
    status = 409


class PreconditionFailedError(FlyApiError):
    status = 412


class UnprocessableError(FlyApiError):
    status = 422


class TooManyRequestsError(FlyApiError):
    """429 with a ``Retry-After`` header in whole seconds (at least 1)."""

    status = 429

    def __init__(self, retry_after: float, message: str = "rate limit exceeded") -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(message, headers={"Retry-After": str(seconds)})
        self.retry_after = seconds


def require_valid(adapter: TypeAdapter[str], value: str) -> str:
    """``value`` checked by ``adapter``, else a 400 carrying the identifier's own message."""
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        raise BadRequestError(error.errors()[0]["msg"].removeprefix("Value error, ")) from None
