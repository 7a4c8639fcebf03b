"""The fake's HTTP layer: routes from the catalogue, one request pipeline, and its drivers.

:meth:`Dispatcher.process` is the whole request pipeline as a generator that yields
the fake seconds it needs to wait (a pending wait, a slow fault) and returns the
outcome; it never sleeps or does I/O itself. Three drivers run it: the httpx
transport's sync and async paths (no sockets) and the ASGI app served by uvicorn.

Pipeline order: injected fault, route (404/405), token (401), scope (403/404), rate
limit (429), parameters (400), handler.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

import httpx

from fly_tools.catalogue import Endpoint
from fly_tools.testing.auth import TokenBook, authorize
from fly_tools.testing.calls import Call, Reply, Route, parse_params
from fly_tools.testing.clock import FakeClock
from fly_tools.testing.errors import FakeApiError, FakeMethodNotAllowedError, FakeNotFoundError
from fly_tools.testing.faults import Fault, FaultRule
from fly_tools.testing.handlers import ROUTES
from fly_tools.testing.ratelimit import ServerRateLimiter, rate_target
from fly_tools.testing.state import FakeState

API_PREFIX = "/v1"
NONCE_HEADER = "fly-machine-lease-nonce"


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it (never its headers, so never the token).

    Attributes:
        method: HTTP method.
        path: request path, e.g. ``/v1/apps/web/machines``.
        query: raw query string, e.g. ``force=true``.
        status: answered status; ``None`` when the connection was reset.
        endpoint: catalogue endpoint name, or ``None`` for an unknown route.
        fault: the injected fault applied, e.g. ``"status 503"``, or ``None``.
        at: fake time the request arrived.
    """

    method: str
    path: str
    query: str
    status: int | None
    endpoint: str | None
    fault: str | None
    at: float


@dataclass(frozen=True)
class Exchange:
    """A request in transport-neutral form."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class WireAnswer:
    """What to send back: a response, after ``delay``, or a dropped connection."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0
    reset: Literal["before", "after"] | None = None


ResponseCheck = Callable[[Endpoint | None, int, str, bytes], None]


class Router:
    """Matches ``/v1`` paths to catalogue routes.

    Reads ``routes`` live: a handler registered later (:func:`~fly_tools.testing.calls.extra_route`,
    e.g. a new endpoint's fake behaviour) is served without rebuilding anything by hand.
    """

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self._routes = routes
        self._built: tuple[Route, ...] = ()
        self._table: list[tuple[re.Pattern[str], dict[str, Route]]] = []

    def _current(self) -> list[tuple[re.Pattern[str], dict[str, Route]]]:
        routes = tuple(self._routes.values())
        if routes != self._built:  # the same objects compare by identity first: cheap
            by_path: dict[str, dict[str, Route]] = {}
            for route in routes:
                by_path.setdefault(route.endpoint.path, {})[route.endpoint.method] = route
            # Fixed segments before parameters: /certificates/acme is not a hostname.
            paths = sorted(by_path, key=lambda path: path.count("{"))
            self._table = [(_path_regex(path), by_path[path]) for path in paths]
            self._built = routes
        return self._table

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and decoded path parameters, or 404/405."""
        allowed: set[str] = set()
        for regex, methods in self._current():
            found = regex.fullmatch(path)
            if found is None:
                continue
            if method not in methods:
                allowed.update(methods)
                continue
            return methods[method], {k: unquote(v) for k, v in found.groupdict().items()}
        if allowed:
            raise FakeMethodNotAllowedError(
                f"method {method} not allowed", headers={"Allow": ", ".join(sorted(allowed))}
            )
        raise FakeNotFoundError(f"no such endpoint: {method} {path}")


def _path_regex(template: str) -> re.Pattern[str]:
    pieces = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(piece) if n % 2 == 0 else f"(?P<{piece}>[^/]+)" for n, piece in enumerate(pieces)
    )
    return re.compile(re.escape(API_PREFIX) + regex + "/?")


ROUTER = Router(ROUTES)


class Dispatcher:
    """Runs requests against the state: faults, auth, limits, handlers, the log.

    Args:
        state: the fake's world.
        tokens: issued tokens.
        limiter: Fly's rate limits, or ``None`` to admit everything.
        check: called with every response (spec validation in the fake's tests).
    """

    def __init__(
        self,
        state: FakeState,
        tokens: TokenBook,
        limiter: ServerRateLimiter | None = None,
        check: ResponseCheck | None = None,
    ) -> None:
        self.state = state
        self.tokens = tokens
        self.limiter = limiter
        self.check = check
        self.faults: list[FaultRule] = []
        self.log: list[LoggedRequest] = []
        self.lock = threading.RLock()

    @property
    def clock(self) -> FakeClock:
        """The fake's clock."""
        return self.state.clock

    def process(self, exchange: Exchange) -> Generator[float, None, WireAnswer]:
        """The request pipeline; yields fake seconds to wait, returns the outcome."""
        at = self.clock.now()
        route, path, refusal = _route(exchange)
        endpoint = route.endpoint if route is not None else None
        fault = self._take_fault(exchange, endpoint)
        if fault is not None and fault.kind == "reset" and fault.before:
            self._log(exchange, None, endpoint, fault, at)
            return WireAnswer(0, reset="before")
        if fault is not None and fault.kind == "status":
            reply = _fault_reply(fault)
        elif route is None:
            reply = _error(refusal or FakeNotFoundError("not found"))
        else:
            reply = yield from self._handle(route, path, exchange, at)
        outcome = _outcome(reply, fault)
        self._log(exchange, None if outcome.reset else outcome.status, endpoint, fault, at)
        if self.check is not None:
            self.check(endpoint, reply.status, reply.content_type, outcome.body)
        return outcome

    def _handle(
        self, route: Route, path: dict[str, str], exchange: Exchange, at: float
    ) -> Generator[float, None, Reply]:
        endpoint = route.endpoint
        try:
            token = self.tokens.authenticate(exchange.headers.get("authorization"))
            authorize(self.state, token, endpoint, path, exchange.body)
            if self.limiter is not None:
                self.limiter.admit(endpoint, rate_target(endpoint, path, token.org))
            query = parse_qsl(exchange.query, keep_blank_values=True)
            params = parse_params(route.params, path, query, exchange.body)
            nonce = exchange.headers.get(NONCE_HEADER) or None
            call = Call(endpoint, token, nonce, query, at, self.tokens)
            result = route.handler(self.state, call, params)
            if isinstance(result, Reply):
                return result
            return (yield from result)
        except FakeApiError as refusal:
            return _error(refusal)

    def _take_fault(self, exchange: Exchange, endpoint: Endpoint | None) -> Fault | None:
        name = endpoint.name if endpoint else None
        for rule in self.faults:
            if rule.applies(exchange.method, exchange.path, name):
                return rule.fault
        return None

    def _log(
        self,
        ex: Exchange,
        status: int | None,
        endpoint: Endpoint | None,
        fault: Fault | None,
        at: float,
    ) -> None:
        name = endpoint.name if endpoint else None
        described = fault.describe() if fault else None
        self.log.append(LoggedRequest(ex.method, ex.path, ex.query, status, name, described, at))

    def run(self, exchange: Exchange) -> WireAnswer:
        """Drive :meth:`process` synchronously, sleeping on the fake's clock."""
        steps = self.process(exchange)
        while True:
            delay, outcome = self._step(steps)
            if outcome is not None:
                return outcome
            self.clock.sleep(delay)

    async def run_async(self, exchange: Exchange) -> WireAnswer:
        """Drive :meth:`process` from async code."""
        steps = self.process(exchange)
        while True:
            delay, outcome = self._step(steps)
            if outcome is not None:
                return outcome
            await self.clock.asleep(delay)

    def _step(self, steps: Generator[float, None, WireAnswer]) -> tuple[float, WireAnswer | None]:
        # The state is locked while the pipeline runs, never while it waits.
        with self.lock:
            try:
                return steps.send(None), None
            except StopIteration as done:
                return 0.0, done.value


def _route(exchange: Exchange) -> tuple[Route | None, dict[str, str], FakeApiError | None]:
    try:
        route, path = ROUTER.match(exchange.method, exchange.path)
    except FakeApiError as refusal:
        return None, {}, refusal
    return route, path, None


def _error(refusal: FakeApiError) -> Reply:
    return Reply(refusal.body(), refusal.status, headers=refusal.headers)


def _fault_reply(fault: Fault) -> Reply:
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    return Reply({"error": fault.reason}, fault.code, headers=headers)


def _outcome(reply: Reply, fault: Fault | None) -> WireAnswer:
    body = reply.encode()
    headers = [(k, v) for k, v in reply.headers.items()]
    if reply.content_type:
        headers.append(("content-type", reply.content_type))
    headers.append(("content-length", str(len(body))))
    delay = fault.seconds if fault is not None and fault.kind == "slow" else 0.0
    reset: Literal["after"] | None = (
        "after" if fault is not None and fault.kind == "reset" else None
    )
    return WireAnswer(reply.status, headers, body, delay, reset)


class FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) that answers from the fake, with no sockets."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from ``httpx.Client``."""
        outcome = self._dispatcher.run(_exchange(request, request.read()))
        delay, timed_out = _delay(request, outcome)
        self._dispatcher.clock.sleep(delay)
        return _response(request, outcome, timed_out)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from ``httpx.AsyncClient``."""
        outcome = await self._dispatcher.run_async(_exchange(request, await request.aread()))
        delay, timed_out = _delay(request, outcome)
        await self._dispatcher.clock.asleep(delay)
        return _response(request, outcome, timed_out)


def _exchange(request: httpx.Request, body: bytes) -> Exchange:
    raw_path = request.url.raw_path.decode("ascii")
    path, _, query = raw_path.partition("?")
    headers = {k.lower(): v for k, v in request.headers.items()}
    return Exchange(request.method, path, query, headers, body)


def _delay(request: httpx.Request, outcome: WireAnswer) -> tuple[float, bool]:
    if outcome.reset == "before" or not outcome.delay:
        return 0.0, False
    read = (request.extensions.get("timeout") or {}).get("read")
    if read is not None and outcome.delay > read:
        return float(read), True
    return outcome.delay, False


def _response(request: httpx.Request, outcome: WireAnswer, timed_out: bool) -> httpx.Response:
    if outcome.reset == "before":
        raise httpx.ConnectError("connection reset by peer (injected fault)", request=request)
    if timed_out:
        raise httpx.ReadTimeout(
            "timed out waiting for the answer (injected fault)", request=request
        )
    if outcome.reset == "after":
        raise httpx.RemoteProtocolError(
            "server disconnected without sending a response (injected fault)", request=request
        )
    return httpx.Response(
        outcome.status, headers=outcome.headers, content=outcome.body, request=request
    )


class ConnectionDroppedError(Exception):
    """Raised inside the ASGI app to make the server drop the connection."""


class AsgiApp:
    """The fake as an ASGI application, for uvicorn or any ASGI server."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """ASGI entry point."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        exchange = Exchange(scope["method"], path.partition("?")[0], query, headers, body)
        outcome = await self._dispatcher.run_async(exchange)
        await self._send(outcome, send)

    async def _send(self, outcome: WireAnswer, send: Any) -> None:
        clock = self._dispatcher.clock
        if outcome.delay:
            # Over real HTTP only real time can make a client's timeout fire, so under
            # virtual time the clock jumps ahead and the answer is held as long for real.
            await clock.asleep(outcome.delay)
            if clock.virtual:
                await asyncio.sleep(outcome.delay)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers]
        if outcome.reset:
            # A started response that then fails makes the server close the connection.
            started = [(b"content-length", b"1")]
            await send({"type": "http.response.start", "status": 200, "headers": started})
            raise ConnectionDroppedError("injected connection reset")
        await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
        await send({"type": "http.response.body", "body": outcome.body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
