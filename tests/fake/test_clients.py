"""Every endpoint through FlyClient and AsyncFlyClient against the fake, in-process."""

from __future__ import annotations

import asyncio
import time

import pytest

from fly_tools import ENDPOINTS
from fly_tools.client import NotFoundError, UnauthorizedError, async_twin
from fly_tools.testing import FakeFly
from tests.fake.tour import Tour, demo_reads, drive, drive_async, every_endpoint
from tests.fake.tour_certificates import certificates_tour
from tests.fake.tour_maintenance import maintenance_tour
from tests.fake.tour_platform import platform_tour
from tests.fake.tour_secretkeys import secretkeys_tour


@pytest.fixture(params=["go", "spec"])
def fake(request: pytest.FixtureRequest) -> FakeFly:
    """The demo world answering as Fly's Go server encodes, then as the spec describes
    (ENDPOINTS.md, "Go-shaped answers"): the clients must read both."""
    return FakeFly.demo(shapes=request.param)


def whole_api() -> Tour:
    """Every operation in the catalogue: the opt-in groups on the demo apps, then the guide's."""
    yield from certificates_tour()
    yield from maintenance_tour()
    yield from secretkeys_tour()
    yield from platform_tour()
    yield from every_endpoint()


def test_sync_client_drives_every_operation(fake: FakeFly) -> None:
    started, start = time.monotonic(), fake.clock.now()
    with fake.client() as client:
        drive(client, whole_api())
    assert {r.endpoint for r in fake.requests} == set(ENDPOINTS)
    assert "api" not in fake.state.apps
    # Transitions and waits ran on virtual time: ten fake seconds, far less real time.
    assert fake.clock.now() - start >= 10
    assert time.monotonic() - started < 5


async def test_async_client_drives_every_operation(fake: FakeFly) -> None:
    start = fake.clock.now()
    async with fake.async_client() as client:
        await drive_async(client, whole_api())
    assert {r.endpoint for r in fake.requests} == set(ENDPOINTS)
    assert fake.clock.now() - start >= 10  # starts, stops and suspends took fake seconds


def test_sync_and_async_flows_leave_the_same_trace() -> None:
    sync_fake, async_fake = FakeFly.demo(), FakeFly.demo()
    with sync_fake.client() as client:
        drive(client, every_endpoint())

    async def run() -> None:
        async with async_fake.async_client() as aclient:
            await drive_async(aclient, every_endpoint())

    asyncio.run(run())
    trace = [(r.method, r.path.split("/")[3:4], r.status) for r in sync_fake.requests]
    assert trace == [(r.method, r.path.split("/")[3:4], r.status) for r in async_fake.requests]
    assert sync_fake.clock.now() == async_fake.clock.now()


def test_async_twin_shares_the_fake(fake: FakeFly) -> None:
    client = fake.client(scope="readonly")
    drive(client, demo_reads())

    async def run() -> None:
        await drive_async(async_twin(client, sleep=fake.clock.asleep), demo_reads())

    asyncio.run(run())
    assert [r.status for r in fake.requests] == [200] * 4


def test_deploy_client_is_bound_to_its_app(fake: FakeFly) -> None:
    with fake.client(scope="deploy", app="worker") as client:
        assert len(client.call("fly_list_machines", {"app_name": "worker"})) == 3
        with pytest.raises(NotFoundError, match="cannot reach"):
            client.call("fly_list_machines", {"app_name": "web"})


def test_revoked_token_is_refused_and_never_echoed(fake: FakeFly) -> None:
    token = fake.issue_token("org")
    client = fake.client(token=token)
    fake.revoke_token(token)
    with pytest.raises(UnauthorizedError) as caught:
        client.call("fly_get_app", {"app_name": "web"})
    assert caught.value.status == 401
    assert token not in str(caught.value)
    assert token not in repr(fake.requests)
