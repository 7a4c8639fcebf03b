"""Calls that wait send progress while they run, and stop sending to Fly once cancelled."""

from __future__ import annotations

import time

import anyio
import pytest
from mcp import Client

from fly_tools.mcp.progress import PROGRESS_EVERY, with_heartbeat
from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.clock import FakeClock
from fly_tools.testing.world import WEB_1
from tests.mcp.conftest import Served, serve
from tests.mcp.test_transports import http_client, serve_in_thread

EVERY = 0.1
NEVER = {"machine_id": WEB_1, "state": "destroyed"}
"""A wait for web-1 to be destroyed: nothing destroys it, so the wait runs to its timeout."""


def on_real_time() -> Served:
    """deploy@web on a fake whose clock runs with the wall clock; progress every 0.1 s."""
    return serve(fake=FakeFly.demo(clock=FakeClock.real()), server={"progress_every": EVERY})


class Progress:
    """A progress callback that keeps what it got and when."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, float | None, str | None, float]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.seen.append((progress, total, message, time.monotonic()))


def test_the_default_pace_is_within_five_seconds() -> None:
    assert 0 < PROGRESS_EVERY <= 5


async def test_a_wait_reports_progress_until_it_ends() -> None:
    web = on_real_time()
    got = Progress()
    async with Client(web.server) as client:
        result = await client.call_tool(
            "fly_wait_machine", {**NEVER, "timeout": 1}, progress_callback=got
        )
    assert result.is_error  # 408: web-1 was not destroyed within 1 s
    assert len(got.seen) >= 5, got.seen
    values = [p for p, *_ in got.seen]
    assert values == sorted(values)  # rising
    assert len(set(values)) == len(values)  # strictly
    assert {total for _, total, *_ in got.seen} == {1.0}  # the wait's own timeout
    assert all("fly_wait_machine" in (message or "") for _, _, message, _ in got.seen)
    gaps = [b[3] - a[3] for a, b in zip(got.seen, got.seen[1:], strict=False)]
    assert max(gaps) < 1.0


async def test_creating_an_app_reports_progress_while_fly_is_not_serving_it_yet() -> None:
    fake = FakeFly.demo(clock=FakeClock.real(), app_ready_delay=1.5)
    org = serve("org", None, fake=fake, server={"progress_every": EVERY})
    got = Progress()
    async with Client(org.server) as client:
        result = await client.call_tool(
            "fly_create_app", {"app_name": "fresh-app", "org_slug": "acme"}, progress_callback=got
        )
    assert not result.is_error, result.content
    reads = [r for r in org.fake.requests if r.path == "/v1/apps/fresh-app"]
    assert len(reads) >= 2  # it read the new app back until Fly served it
    assert len(got.seen) >= 5
    assert {total for _, total, *_ in got.seen} == {None}  # no timeout of its own


async def test_a_quick_call_sends_no_progress(web: Served) -> None:
    got = Progress()
    async with Client(web.server) as client:
        result = await client.call_tool("fly_list_machines", {}, progress_callback=got)
    assert not result.is_error
    assert got.seen == []


def rate_limited() -> Served:
    """:func:`on_real_time`, with every wait answered 429 (retry after 0.3 s): it polls."""
    web = on_real_time()
    web.fake.inject(Fault.status(429, retry_after=0.3), count=1000, match="fly_wait_machine")
    return web


def waits(web: Served) -> int:
    return sum(1 for r in web.fake.requests if r.path.endswith("/wait"))


async def test_rate_limit_pauses_report_progress_and_cancelling_stops_the_polls() -> None:
    web = rate_limited()
    got = Progress()
    async with Client(web.server) as client:
        with anyio.move_on_after(1.0) as waited:
            await client.call_tool(
                "fly_wait_machine", {**NEVER, "timeout": 600}, progress_callback=got
            )
        assert waited.cancelled_caught
        polled = waits(web)
        assert polled >= 2  # it was polling through the pauses
        await anyio.sleep(1.2)  # a wait not cancelled would ask Fly again within this
        assert waits(web) == polled
        assert not (await client.call_tool("fly_list_machines", {})).is_error  # still serving
    assert len(got.seen) >= 5  # it reported while pausing


async def test_a_failure_in_the_work_is_raised_and_the_heartbeat_stops() -> None:
    beats: list[float] = []

    async def report(progress: float, total: float | None, message: str | None) -> None:
        beats.append(progress)

    async def fails() -> None:
        await anyio.sleep(0.25)
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await with_heartbeat(fails, report, what="x", every=0.1)
    assert beats  # it beat while the work ran
    count = len(beats)
    await anyio.sleep(0.3)
    assert len(beats) == count  # nothing after the work ended


@pytest.mark.enable_socket
@pytest.mark.loopback
async def test_progress_and_cancellation_over_http() -> None:
    from fly_tools.mcp.http import http_app
    from tests.mcp.test_transports import TOKEN

    web = on_real_time()
    got = Progress()
    with serve_in_thread(http_app(web.server, token=TOKEN)) as base:
        async with http_client(f"{base}/mcp") as client:
            result = await client.call_tool(
                "fly_wait_machine", {**NEVER, "timeout": 1}, progress_callback=got
            )
            assert result.is_error
            assert len(got.seen) >= 5
            web.fake.inject(
                Fault.status(429, retry_after=0.3), count=1000, match="fly_wait_machine"
            )
            with anyio.move_on_after(1.0):
                await client.call_tool("fly_wait_machine", {**NEVER, "timeout": 600})
            await anyio.sleep(0.3)  # the cancel notification reaches the server
            polled = waits(web)
            await anyio.sleep(1.2)
            assert waits(web) == polled
            assert not (await client.call_tool("fly_list_machines", {})).is_error
