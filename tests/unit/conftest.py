"""Fixtures for the client unit tests: a manual clock, recorded sleeps, a scripted recording Fly."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

from fly_tools.client import AsyncFlyClient, FlyClient

TOKEN = "fo1_unit-test-token-7f3a9c"
"""A recognisable token: tests search every output for it."""

FLY_ENV_VARS = (
    "FLY_API_TOKEN",
    "FLY_ACCESS_TOKEN",
    "FLY_API_HOSTNAME",
    "FLY_FLAPS_BASE_URL",
    "FLY_TOOLS_TIMEOUT",
)

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class ManualClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """Records every sleep; each one moves the fake clock as a real sleep would."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self(seconds)


class ScriptedFly:
    """A MockTransport handler: records each request and answers from a script.

    ``replies`` are used in order (the last one repeats); each is a response, an
    exception to raise, or a function of the request.
    """

    def __init__(self, replies: Iterable[Reply] = ()) -> None:
        self.replies = list(replies) or [httpx.Response(200, json={"ok": True})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            # A fresh copy each time: a sent response is bound to the client that read it.
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.read())
        return reply(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No Fly settings from the developer's environment leak into a test."""
    for name in FLY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sleeps(clock: ManualClock) -> Sleeps:
    return Sleeps(clock)


@pytest.fixture
def make_client(
    clean_env: pytest.MonkeyPatch, clock: ManualClock, sleeps: Sleeps
) -> Callable[..., FlyClient]:
    """Build a FlyClient on a ScriptedFly; rate limiting is off unless asked for."""

    def build(fly: ScriptedFly, **options: Any) -> FlyClient:
        options.setdefault("rate_limit", False)
        return FlyClient(TOKEN, transport=fly.transport, sleep=sleeps, clock=clock, **options)

    return build


@pytest.fixture
def make_async_client(
    clean_env: pytest.MonkeyPatch, clock: ManualClock, sleeps: Sleeps
) -> Callable[..., AsyncFlyClient]:
    """Build an AsyncFlyClient on a ScriptedFly; rate limiting is off unless asked for."""

    def build(fly: ScriptedFly, **options: Any) -> AsyncFlyClient:
        options.setdefault("rate_limit", False)
        return AsyncFlyClient(
            TOKEN, transport=fly.transport, sleep=sleeps.asleep, clock=clock, **options
        )

    return build


@pytest.fixture
def token() -> str:
    """The token every client fixture uses; no output may ever contain it."""
    return TOKEN


@pytest.fixture
def fake_fly() -> Callable[..., ScriptedFly]:
    """``fake_fly(*replies)``: a recording MockTransport handler answering in order."""
    return lambda *replies: ScriptedFly(replies)
