"""Why a request got no answer, said first: host not found, connection refused, no answer in N s.

A request that gets no (complete) answer becomes a :class:`FlyConnectionError` whose first
words name the cause, as a new user needs it: a DNS failure, a refused connection, a
server that accepts and never answers. :class:`Attempts` counts the tries of one request
and keeps its total deadline, so a hung server costs at most a few timeouts, not minutes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import httpx

from fly_tools.client.errors import (
    MAY_HAVE_HAPPENED,
    BadRequestError,
    FlyAPIError,
    FlyConnectionError,
    FlyError,
    FlyTimeoutError,
    InvalidArgumentsError,
    NotFoundError,
)
from fly_tools.client.settings import CONNECT_TIMEOUT, DEADLINE_FACTOR

logger = logging.getLogger("fly_tools.client")
MESSAGE_LIMIT = 300
"""Characters of a low-level error text kept in a message."""
NOTE_KEY = "client_note"
"""Key of the note the client adds to a result it had to interpret; the tools print it."""
_DNS_FAILURES = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated with hostname",
    "getaddrinfo failed",
    "[errno -2]",
    "[errno -3]",
    "[errno -5]",
    "[errno 8]",
    "[errno 11001]",
)
_REFUSED = ("connection refused", "actively refused", "[errno 111]", "[errno 61]")
_CURRENT_SIZE = re.compile(r"current\D{0,20}?(\d+)\s*GB", re.IGNORECASE)


def connection_error(plan: Any, exc: httpx.TransportError, *, timeout: float) -> FlyConnectionError:
    """The exception for a request that got no (complete) answer, its cause said first.

    Args:
        plan: the :class:`~fly_tools.client.core.RequestPlan` that was being sent.
        exc: what httpx raised.
        timeout: the per-request timeout in force (seconds).
    """
    # Only these fail before any byte of the request can reach Fly.
    sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    timed_out = isinstance(exc, httpx.TimeoutException)
    if not sent:
        advice = "Nothing reached Fly: check the network and the base URL, then retry."
    elif plan.endpoint.idempotent:
        advice = "Retrying is safe: repeating this call has no further effect."
    else:
        advice = MAY_HAVE_HAPPENED
    cause = _cause(exc, plan.read_timeout or timeout, min(CONNECT_TIMEOUT, timeout))
    what = "timed out" if timed_out else "failed"
    detail = str(exc)[:MESSAGE_LIMIT] or type(exc).__name__
    request = f"{plan.method} {plan.path} {what} before Fly answered"
    message = f"{cause}; {request}" if cause else f"{request} ({detail})"
    return (FlyTimeoutError if timed_out else FlyConnectionError)(
        message + ".",
        method=plan.method,
        path=plan.path,
        request_sent=sent,
        advice=advice,
        cause=cause,
    )


def _cause(exc: httpx.TransportError, read: float, connect: float) -> str:
    host = _host(exc)
    text = str(exc).lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return f"No connection to {host} in {connect:g} s"
    if isinstance(exc, httpx.PoolTimeout):
        return f"No free connection to {host} in {connect:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"No answer in {read:g} s"
    if isinstance(exc, httpx.ConnectError) and any(m in text for m in _DNS_FAILURES):
        return f"Host not found: {host} does not resolve (DNS lookup failed)"
    if isinstance(exc, httpx.ConnectError) and any(m in text for m in _REFUSED):
        return f"Connection refused: nothing accepts connections at {host}"
    return ""


def _host(exc: httpx.TransportError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:  # an exception raised without its request
        return "the API host"
    return f"{url.host}:{url.port}" if url.port else url.host


def unsendable(plan: Any, exc: httpx.InvalidURL) -> InvalidArgumentsError:
    """The request could not even be built (e.g. a URL over httpx's length limit)."""
    return InvalidArgumentsError(
        plan.endpoint.name, [f"the request URL cannot be sent ({exc}); use shorter values"]
    )


class Attempts:
    """The attempts at one request: how many, its total deadline, and lost replies.

    When a reply is lost after the request reached Fly, a retried delete meets 404 and
    a retried extend meets "must be greater than the current size": the first attempt
    did the job. That is reported as done, with a note saying so, not as a failure.

    Args:
        plan: the request being attempted.
        started: when the first attempt began (on the client's clock).
        timeout: the per-request timeout in force (seconds).
    """

    def __init__(self, plan: Any, *, started: float = 0.0, timeout: float = 30.0) -> None:
        self.plan = plan
        self.reply_lost = False
        self.tries = 0
        self.started = started
        self.attempt_seconds = plan.read_timeout or timeout
        self.deadline = DEADLINE_FACTOR * self.attempt_seconds
        """Seconds all tries of a request may take when no answer comes back."""

    def failed(self, error: FlyError) -> FlyError:
        """Note a failed attempt; returns ``error`` for raising."""
        self.tries += 1
        if isinstance(error, FlyConnectionError):
            error.tries = self.tries
            self.reply_lost = self.reply_lost or error.request_sent
        return error

    def out_of_time(self, now: float) -> bool:
        """Whether another full attempt would end past the request's total deadline."""
        return now - self.started + self.attempt_seconds > self.deadline

    def answered(
        self, response: httpx.Response, parse: Callable[[Any, httpx.Response], Any]
    ) -> Any:
        """The result of an answered attempt.

        Args:
            response: Fly's answer.
            parse: how an answer to the plan becomes a result or an error
                (:func:`~fly_tools.client.core.parse_response`).
        """
        self.tries += 1
        try:
            return parse(self.plan, response)
        except FlyAPIError as error:
            done = done_by_lost_attempt(self.plan, error) if self.reply_lost else None
            if done is None:
                raise
            logger.info("%s %s: %s", self.plan.method, self.plan.path, done[NOTE_KEY])
            return done


def done_by_lost_attempt(plan: Any, error: FlyAPIError) -> dict[str, Any] | None:
    """The result to report when ``error`` shows an earlier, unanswered attempt succeeded."""
    lost = "the first attempt succeeded but its reply was lost, and the retry found it"
    if plan.method == "DELETE" and isinstance(error, NotFoundError):
        verb = "released" if plan.endpoint.group == "leases" else "deleted"
        gone = "no lease held" if verb == "released" else "already gone"
        return {"ok": True, NOTE_KEY: f"{verb}: {lost} {gone}"}
    size = plan.json.get("size_gb") if isinstance(plan.json, dict) else None
    if plan.path.endswith("/extend") and isinstance(error, BadRequestError) and size:
        current = _CURRENT_SIZE.search(error.message)
        if current is not None and int(current.group(1)) == size:
            return {"ok": True, NOTE_KEY: f"extended to {size} GB: {lost} at that size already"}
    return None
