"""The client's pure core: build requests, classify responses, decide retries; no I/O.

The sync and async clients only send what this module decides (see also
:mod:`fly_tools.client.flows`, the calls that take more than one request, and
:mod:`fly_tools.client.failures`, requests that got no answer).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.client.errors import (
    LONG_RETRY_AFTER,
    FlyAPIError,
    FlyConnectionError,
    InvalidArgumentsError,
    RateLimitedError,
    ServerError,
    advice_for,
    error_class,
)
from fly_tools.client.failures import (
    MESSAGE_LIMIT,
    NOTE_KEY,
    Attempts,
    connection_error,
    done_by_lost_attempt,
    unsendable,
)
from fly_tools.client.problems import describe_problems
from fly_tools.client.settings import CONNECT_TIMEOUT
from fly_tools.client.shapes import as_byte_arrays
from fly_tools.models.args import FlyArgs
from fly_tools.redaction import scrub, secret_values_in

logger = logging.getLogger("fly_tools.client")

LEASE_NONCE_HEADER = "fly-machine-lease-nonce"
REQUEST_ID_HEADER = "fly-request-id"
RETRYABLE_STATUSES = frozenset({502, 503, 504})
RETRY_AFTER_CAP = LONG_RETRY_AFTER
"""Longest ``Retry-After`` the client sleeps through before retrying a 429; a longer one is
the caller's to schedule, so the error naming the wait is raised at once."""


@dataclass(frozen=True)
class RequestPlan:
    """One HTTP request, fully decided.

    Attributes:
        endpoint: the catalogue record.
        path: concrete path below ``/v1``, identifiers URL-quoted.
        params: query parameters in wire form.
        json: JSON body, or ``None`` to send none.
        headers: per-request headers (the lease nonce); auth headers live on the client.
        rate_key: the rate-limiter bucket this request draws from.
        read_timeout: read timeout override in seconds (wait requests), else the default.
    """

    endpoint: Endpoint
    path: str
    params: tuple[tuple[str, str], ...]
    json: Any
    headers: Mapping[str, str]
    rate_key: tuple[str, str]
    read_timeout: float | None = None
    # The validated arguments, for the secret values an error body may echo back.
    args: FlyArgs | None = field(default=None, repr=False, compare=False)

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self.endpoint.method


# ---------------------------------------------------------------- arguments


def resolve_endpoint(endpoint_or_name: Endpoint | str) -> Endpoint:
    """The catalogue record for a name (records pass through)."""
    if isinstance(endpoint_or_name, Endpoint):
        return endpoint_or_name
    if endpoint_or_name not in ENDPOINTS:
        raise InvalidArgumentsError(
            str(endpoint_or_name),
            [f"no Fly endpoint has that name; known: {', '.join(ENDPOINTS)}"],
        )
    return ENDPOINTS[endpoint_or_name]


def validate_args(endpoint: Endpoint, args: FlyArgs | Mapping[str, Any]) -> FlyArgs:
    """``args`` as a validated instance of the endpoint's model.

    Raises:
        InvalidArgumentsError: naming each bad field and what it should be.
    """
    model = endpoint.args_model
    if type(args) is model:
        return args
    if isinstance(args, FlyArgs):
        # Another model's instance: check its fields against this endpoint's model.
        args = args.model_dump(exclude_unset=True)
    if not isinstance(args, Mapping):
        raise InvalidArgumentsError(endpoint.name, [f"arguments must be a mapping, not {args!r}"])
    try:
        return model.model_validate(dict(args))
    except ValidationError as exc:
        raise InvalidArgumentsError(endpoint.name, describe_problems(exc, model)) from None


# ---------------------------------------------------------------- requests


def rate_key(endpoint: Endpoint, args: FlyArgs) -> tuple[str, str]:
    """The limiter bucket: the action, and the machine or app it acts on."""
    if endpoint.rate_class == "app_delete":
        # Fly counts app deletions across the organization, not per app.
        return (endpoint.name, "org")
    target = getattr(args, "machine_id", None) or getattr(args, "app_name", None) or "org"
    return (endpoint.name, str(target))


def build_request(
    endpoint: Endpoint,
    args: FlyArgs,
    *,
    body: Any = None,
    read_timeout: float | None = None,
) -> RequestPlan:
    """The request for one call; ``body`` replaces the arguments' own JSON body."""
    values: dict[str, str] = {}
    for name in sorted(endpoint.path_params):
        value = str(getattr(args, name))
        if value in ("", ".", ".."):
            # Models reject these already; unvalidated instances must not walk the path.
            raise InvalidArgumentsError(endpoint.name, [f"{name}: {value!r} is not an identifier"])
        # ':' stays raw, as Go's url.PathEscape leaves it and fly-go sends an IPv6 address
        # (superfly/fly-go flaps/flaps_ip_assignments.go:68, DeleteIPAssignment).
        values[name] = quote(value, safe=":")
    nonce = args.lease_nonce_header()
    return RequestPlan(
        endpoint=endpoint,
        path=endpoint.render_path(values),
        params=tuple(args.query_params()),
        json=args.json_body(endpoint.path_params) if body is None else body,
        headers={LEASE_NONCE_HEADER: nonce} if nonce else {},
        rate_key=rate_key(endpoint, args),
        read_timeout=read_timeout,
        args=args,
    )


def httpx_options(plan: RequestPlan, timeout: float) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client.request`` / ``httpx.AsyncClient.request``."""
    # Only what differs from the client's defaults: httpx re-parses the URL for any
    # params given (even none) and merges headers and timeouts for each request.
    options: dict[str, Any] = {"method": plan.method, "url": plan.path}
    if plan.params:
        options["params"] = list(plan.params)
    if plan.headers:
        options["headers"] = dict(plan.headers)
    if plan.read_timeout:
        connect = min(CONNECT_TIMEOUT, timeout)
        options["timeout"] = httpx.Timeout(timeout, connect=connect, read=plan.read_timeout)
    if plan.json is not None:
        options["json"] = plan.json
    return options


# ---------------------------------------------------------------- responses


def parse_response(plan: RequestPlan, response: httpx.Response) -> Any:
    """The call's result for a 2xx response.

    JSON becomes dicts and lists (lease envelopes unwrapped to their ``data``);
    ``text/plain`` (OIDC) and other non-JSON bodies become ``str``; an empty body ``None``.

    Raises:
        FlyAPIError: the subclass for any other status.
    """
    logger.debug("%s %s -> %s", plan.method, plan.path, response.status_code)
    if not response.is_success:
        raise api_error(plan, response)
    content = response.content
    if not content.strip():
        return None
    if _content_type(response) == "text/plain":
        return response.text.strip()
    try:
        # The bytes, as httpx's own ``Response.json`` reads them: decoding to text first
        # would parse the content type's charset for nothing.
        data = json.loads(content)
    except ValueError:
        return response.text  # exec may answer application/octet-stream
    if plan.endpoint.group == "leases" and isinstance(data, dict) and "data" in data:
        return data["data"]
    return as_byte_arrays(plan.endpoint, data)


def api_error(plan: RequestPlan, response: httpx.Response) -> FlyAPIError:
    """The exception for an error response, with Fly's message and advice for the caller.

    Whatever the body echoes of the token or of the call's secret values (a set-secret
    value, exec stdin) is scrubbed, in every encoding, before anything is kept.
    """
    clean = _scrubber(plan, response)
    message, fly_status = _error_details(response, clean)
    request_id = response.headers.get(REQUEST_ID_HEADER)
    retry_after = _retry_after(response.headers.get("retry-after"))
    return error_class(response.status_code)(
        message,
        status=response.status_code,
        fly_status=clean(fly_status) if fly_status is not None else None,
        request_id=clean(request_id) if request_id is not None else None,
        method=plan.method,
        path=plan.path,
        advice=advice_for(
            response.status_code,
            message=message,
            fly_status=fly_status,
            overrides=plan.endpoint.advice,
            idempotent=plan.endpoint.idempotent,
            retry_after=retry_after,
        ),
        retry_after=retry_after,
    )


def _content_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _error_details(response: httpx.Response, clean: Callable[[str], str]) -> tuple[str, str | None]:
    # Scrubbed before it is cut short: a secret cut in half would no longer match.
    text = response.text.strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = data.get("message") or data.get("error")
        category = data.get("status")
        if message:
            return clean(str(message)), category if isinstance(category, str) else None
    if not text:
        return response.reason_phrase or f"HTTP {response.status_code}", None
    text = clean(text)
    return (text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "…"), None


def _scrubber(plan: RequestPlan, response: httpx.Response) -> Callable[[str], str]:
    """Text with the credential (as ``[token]``) and the call's secret values scrubbed."""
    try:
        credential = response.request.headers.get("authorization", "").partition(" ")[2]
    except RuntimeError:  # a response built without a request
        credential = ""
    # Each comma-separated part of a macaroon is a credential on its own (scrub splits).
    tokens = [credential] if len(credential) >= 8 else []
    secrets = secret_values_in(plan.endpoint, plan.args) if plan.args is not None else set()

    def clean(text: str) -> str:
        return scrub(scrub(text, tokens, "[token]"), secrets)

    return clean


def _retry_after(value: str | None) -> float | None:
    # Fly sends seconds; an HTTP-date falls back to the client's own backoff.
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


# ---------------------------------------------------------------- retries


def is_retryable(endpoint: Endpoint, exc: BaseException) -> bool:
    """Whether sending the same request again is safe and may succeed."""
    if isinstance(exc, RateLimitedError):
        # Fly refused before acting; a wait longer than the cap is left to the caller.
        return exc.retry_after is None or exc.retry_after <= RETRY_AFTER_CAP
    if isinstance(exc, FlyConnectionError):
        return not exc.request_sent or endpoint.idempotent
    if isinstance(exc, ServerError):
        return endpoint.idempotent and exc.status in RETRYABLE_STATUSES
    return False


def should_retry(endpoint: Endpoint, first: BaseException, max_retries: int) -> bool:
    """Whether a failed first attempt is worth a retry loop at all."""
    return max_retries > 0 and is_retryable(endpoint, first)


__all__ = [
    "NOTE_KEY",
    "Attempts",
    "RequestPlan",
    "build_request",
    "connection_error",
    "done_by_lost_attempt",
    "httpx_options",
    "is_retryable",
    "parse_response",
    "should_retry",
    "unsendable",
]
