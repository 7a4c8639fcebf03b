"""State-layer errors of the fake: each carries the HTTP status and Fly's error body.

The state model raises these; the HTTP layer turns them into responses in Fly's
``ErrorResponse`` shape, ``{"error": "...", "status": "<category>"}``.

    FakeApiError                      any refusal the fake answers with an error status
    ├── FakeBadRequestError           400  malformed or invalid request
    ├── FakeUnauthorizedError         401  missing or unknown token
    ├── FakeForbiddenError            403  the token's scope forbids the action
    ├── FakeNotFoundError             404  no such resource, or the token cannot reach it
    ├── FakeMethodNotAllowedError     405  known path, other method
    ├── FakeRequestTimeoutError       408  wait ran out of time
    ├── FakeConflictError             409  lease held, stale current_version
    ├── FakePreconditionFailedError   412  impossible from the machine's current state
    ├── FakeUnprocessableError        422  e.g. app name taken
    └── FakeTooManyRequestsError      429  rate limit exceeded (with Retry-After)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import TypeAdapter, ValidationError


class FakeApiError(Exception):
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


class FakeBadRequestError(FakeApiError):
    status = 400


class FakeUnauthorizedError(FakeApiError):
    status = 401


class FakeForbiddenError(FakeApiError):
    status = 403


class FakeNotFoundError(FakeApiError):
    status = 404


class FakeMethodNotAllowedError(FakeApiError):
    status = 405


class FakeRequestTimeoutError(FakeApiError):
    status = 408


class FakeConflictError(FakeApiError):
    status = 409


class FakePreconditionFailedError(FakeApiError):
    status = 412


class FakeUnprocessableError(FakeApiError):
    status = 422


class FakeTooManyRequestsError(FakeApiError):
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
        raise FakeBadRequestError(error.errors()[0]["msg"].removeprefix("Value error, ")) from None
