"""The client's exceptions: one tree, and the advice each failure gives an agent.

Every exception's ``str()`` says what happened and what to do next, in words an agent
can act on. None of them ever holds the API token.

    FlyError                        anything this client raises
    ├── FlyAPIError                 Fly answered with an error status
    │   ├── BadRequestError         400  read the message, fix the request
    │   ├── UnauthorizedError       401  token missing, invalid or expired
    │   ├── ForbiddenError          403  the token cannot reach it
    │   ├── NotFoundError           404  check the name/id and the token's scope
    │   ├── WaitTimeoutError        408  call wait again, or read the machine
    │   ├── ConflictError           409  lease held, or current_version stale
    │   ├── UnprocessableError      422  e.g. app name taken
    │   ├── RateLimitedError        429  slow down, retry after N s
    │   └── ServerError             5xx  Fly-side error, retry later
    ├── FlyConnectionError          no (complete) answer from Fly
    │   └── FlyTimeoutError         ... because a timeout expired
    ├── ConfigurationError          token or base URL missing or malformed
    └── InvalidArgumentsError       arguments rejected before any request was sent

:data:`ERROR_CLASSES` is the one table from HTTP status to class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

CREDENTIALS_HINT = (
    "set FLY_API_TOKEN (or FLY_ACCESS_TOKEN) to a token from `fly tokens create deploy` "
    "(one app) or `fly tokens create org` (a whole organization)"
)
MAY_HAVE_HAPPENED = (
    "The action may have happened: list or get the resource to check before trying again; "
    "do not simply repeat the call."
)


class FlyError(Exception):
    """Base of every exception the Fly client raises.

    Attributes:
        message: what happened.
        advice: what to do next.
    """

    def __init__(self, message: str, *, advice: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice

    def __str__(self) -> str:
        return f"{self.message} {self.advice}".strip()


class FlyAPIError(FlyError):
    """Fly answered with an error status.

    Attributes:
        status: the HTTP status code.
        message: Fly's message (JSON ``message``, else ``error``, else the body text).
        fly_status: Fly's error category (JSON ``status``), e.g. ``insufficient_capacity``.
        request_id: Fly's ``fly-request-id`` response header, for Fly support.
        method: HTTP method of the failed request.
        path: request path (below ``/v1``).
        advice: what to do next.
        retry_after: seconds Fly asked to wait (``Retry-After``), when it said.
    """

    default_advice: ClassVar[str] = "Read the message, then decide whether to change the request."

    def __init__(
        self,
        message: str,
        *,
        status: int,
        fly_status: str | None = None,
        request_id: str | None = None,
        method: str = "",
        path: str = "",
        advice: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, advice=self.default_advice if advice is None else advice)
        self.status = status
        self.fly_status = fly_status
        self.request_id = request_id
        self.method = method
        self.path = path
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f" to {self.method} {self.path}" if self.method else ""
        said = self.message.rstrip(". ")
        text = f"Fly answered {self.status}{where}: {said}. {self.advice}".strip()
        return f"{text} (fly-request-id {self.request_id})" if self.request_id else text


class BadRequestError(FlyAPIError):
    """400: the request was malformed or invalid."""

    default_advice = "Read Fly's message, correct the request and send it again."


class UnauthorizedError(FlyAPIError):
    """401: the token is missing, invalid or expired."""

    default_advice = (
        f"The Fly API token is missing, invalid or expired: check it, or {CREDENTIALS_HINT}."
    )

    def __str__(self) -> str:
        # The cause first, for whoever reads only the first words: Fly refused the token.
        return f"Token refused: {super().__str__()}"


class ForbiddenError(FlyAPIError):
    """403: the token's scope does not reach the resource."""

    default_advice = (
        "The token cannot reach this resource or action (it may belong to another "
        "organization, or the token's scope is narrower): use a token whose scope covers it."
    )


class NotFoundError(FlyAPIError):
    """404: no such resource, or the token's scope cannot see it."""

    default_advice = (
        "Check the app name and any id in the call (list them to find the right one), and "
        "that the token's scope reaches the app."
    )


class WaitTimeoutError(FlyAPIError):
    """408: the machine did not reach the state in time (or Fly timed the request out)."""

    default_advice = (
        "Call wait again to keep waiting, or read the machine (fly_get_machine) to see its "
        "current state."
    )


class ConflictError(FlyAPIError):
    """409: a lease is held, or ``current_version`` is stale."""

    default_advice = (
        "Either the machine is leased (wait for the lease to expire, or release it with "
        "its nonce, then retry) or current_version is stale (read the machine again and "
        "retry with its current version)."
    )


class UnprocessableError(FlyAPIError):
    """422: Fly understood the request but refuses it (e.g. the app name is taken)."""

    default_advice = "Read Fly's message and change the request (for example, another name)."


class RateLimitedError(FlyAPIError):
    """429: a per-action rate limit was exceeded."""

    default_advice = "Fly's rate limit was hit: slow down and retry after a short pause."


class ServerError(FlyAPIError):
    """5xx: an error on Fly's side."""

    default_advice = "This is an error on Fly's side: retry later."


class FlyConnectionError(FlyError):
    """No complete answer came back from Fly.

    Its ``str()`` opens with the cause (``Host not found: ...``, ``Connection refused:
    ...``, ``No answer in 30 s after 2 tries``), then the request and what to do.

    Attributes:
        method: HTTP method of the request.
        path: request path (below ``/v1``).
        request_sent: False when the failure happened before the request could reach Fly.
        cause: the opening words naming why, where the client could tell (else empty).
        tries: how many times the request was tried.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        request_sent: bool,
        advice: str = "",
        cause: str = "",
    ) -> None:
        super().__init__(message, advice=advice)
        self.method = method
        self.path = path
        self.request_sent = request_sent
        self.cause = cause
        self.tries = 1

    def __str__(self) -> str:
        if self.tries < 2:
            return super().__str__()
        tried = f" after {self.tries} tries"
        if self.cause and self.message.startswith(self.cause):
            rest = self.message.removeprefix(self.cause)
            return f"{self.cause}{tried}{rest} {self.advice}".strip()
        return f"{self.message.rstrip('.')}{tried}. {self.advice}".strip()


class FlyTimeoutError(FlyConnectionError):
    """A connect, read, write or pool timeout expired."""


class ConfigurationError(FlyError):
    """The client cannot be set up: no token, or a malformed token or base URL."""


class InvalidArgumentsError(FlyError):
    """Arguments failed validation; no request was sent.

    Attributes:
        endpoint: the endpoint (tool) name.
        problems: one ``"field: what is wrong"`` line per bad field.
    """

    def __init__(self, endpoint: str, problems: Sequence[str]) -> None:
        listed = "; ".join(problems)
        super().__init__(
            f"Invalid arguments for {endpoint}: {listed}.",
            advice="Fix these fields and call again; nothing was sent to Fly.",
        )
        self.endpoint = endpoint
        self.problems = tuple(problems)


ERROR_CLASSES: dict[int, type[FlyAPIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    408: WaitTimeoutError,
    409: ConflictError,
    422: UnprocessableError,
    429: RateLimitedError,
}
"""HTTP status -> exception class; any other 5xx is :class:`ServerError`."""


def error_class(status: int) -> type[FlyAPIError]:
    """The exception class for an HTTP error status."""
    if status in ERROR_CLASSES:
        return ERROR_CLASSES[status]
    return ServerError if status >= 500 else FlyAPIError


LONG_RETRY_AFTER = 30.0
"""A ``Retry-After`` beyond this many seconds is not slept through by the client."""


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"about {seconds / 3600:.1f} h"
    return f"about {seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:g} s"


CATEGORY_ADVICE: dict[str, str] = {
    "insufficient_capacity": (
        "Fly has no capacity for this in that region: choose another region (or a smaller "
        "size) and try again."
    ),
    "name_taken": (
        "App names are global across Fly.io: the name may belong to an app in another "
        "organization you cannot see. Choose another name."
    ),
    "volume_placement_capacity": (
        "Fly cannot place a volume of that size there: choose another region or a smaller "
        "size and try again."
    ),
}
"""Advice for Fly's error categories (the JSON ``status`` field of an error body)."""


def advice_for(
    status: int,
    *,
    message: str,
    fly_status: str | None,
    overrides: Mapping[int, str],
    idempotent: bool,
    retry_after: float | None,
) -> str:
    """What to do next after an error status, refined by the category and the call.

    ``overrides`` is the endpoint's own advice by status (its record's ``advice``).
    """
    if fly_status in CATEGORY_ADVICE:
        return CATEGORY_ADVICE[fly_status]
    lowered = message.lower()
    if status == 409 and "version" in lowered:
        return "The machine changed since that version: read the machine again and retry."
    if status == 409 and "lease" in lowered:
        return (
            "The machine is leased: wait for the lease to expire (fly_get_lease shows when) "
            "or release it with its nonce (fly_release_lease), then retry."
        )
    if status in overrides:
        return overrides[status]
    if status == 429 and retry_after is not None and retry_after > LONG_RETRY_AFTER:
        return (
            f"Fly's rate limit was hit and Fly asks for {retry_after:g} s "
            f"({_duration(retry_after)}) before the next try, longer than the client waits on "
            "its own: do not retry before then; do other work or tell the user when to come back."
        )
    if status == 429 and retry_after is not None:
        return f"Fly's rate limit was hit: slow down and retry after {retry_after:g} s."
    if status == 408:
        return "Fly timed the request out. " + ("Retry it." if idempotent else MAY_HAVE_HAPPENED)
    if status >= 500 and not idempotent:
        return f"This is an error on Fly's side. {MAY_HAVE_HAPPENED}"
    return error_class(status).default_advice
