"""Wait: virtual time jumps to the state change, or the timeout answers 408."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fly_tools.client import WaitTimeoutError
from fly_tools.testing import FakeClock, FakeFly
from fly_tools.testing.world import WEB_1, WEB_2, WEB_3

WAIT = f"/apps/web/machines/{WEB_2}/wait"


def test_wait_jumps_the_clock_to_the_transition(fake: FakeFly, http: httpx.Client) -> None:
    http.post(f"/apps/web/machines/{WEB_2}/stop")
    start = fake.clock.now()
    response = http.get(WAIT, params={"state": "stopped"})
    assert response.status_code == 200
    assert response.json()["state"] == "stopped"
    assert fake.clock.now() - start == pytest.approx(2.0)


def test_wait_times_out_with_408_after_exactly_its_timeout(
    fake: FakeFly, http: httpx.Client
) -> None:
    start = fake.clock.now()
    response = http.get(
        f"/apps/web/machines/{WEB_3}/wait", params={"state": "started", "timeout": 7}
    )
    assert response.status_code == 408
    assert "did not reach state started" in response.json()["error"]
    assert fake.clock.now() - start == pytest.approx(7.0)


def test_one_wait_request_holds_at_most_60_seconds(fake: FakeFly, http: httpx.Client) -> None:
    start = fake.clock.now()
    response = http.get(f"/apps/web/machines/{WEB_3}/wait", params={"timeout": 600})
    assert response.status_code == 408
    assert fake.clock.now() - start == pytest.approx(60.0)


def test_an_already_reached_state_answers_at_once(fake: FakeFly, http: httpx.Client) -> None:
    start = fake.clock.now()
    body = http.get(f"/apps/web/machines/{WEB_1}/wait").json()
    assert body["ok"]
    assert body["state"] == "started"
    assert body["event_id"]
    assert fake.clock.now() == start


@pytest.mark.parametrize(
    "query",
    ["state=suspended&state=stopped", "state=suspended,stopped", "state=settled"],
)
def test_several_states_repeated_comma_separated_or_settled(
    fake: FakeFly, http: httpx.Client, query: str
) -> None:
    http.post(f"/apps/web/machines/{WEB_2}/stop")
    response = http.get(f"{WAIT}?{query}")
    assert response.status_code == 200
    assert response.json()["state"] == "stopped"


def test_an_unknown_state_is_a_400(http: httpx.Client) -> None:
    response = http.get(WAIT, params={"state": "running"})
    assert response.status_code == 400
    assert "invalid state running" in response.json()["error"]


def test_an_old_version_counts_as_stopped(http: httpx.Client) -> None:
    old = http.get(f"/apps/web/machines/{WEB_1}/versions").json()[-1]["version"]
    # instance_id is the deprecated name fly-go no longer sends; both are accepted.
    body = http.get(
        f"/apps/web/machines/{WEB_1}/wait", params={"state": "stopped", "instance_id": old}
    ).json()
    assert body["state"] == "stopped"
    assert body["version"] == old
    unknown = http.get(f"/apps/web/machines/{WEB_1}/wait", params={"version": "01NOPE"})
    assert unknown.status_code == 404


def test_client_wait_loops_across_408s_until_its_deadline(fake: FakeFly) -> None:
    start = fake.clock.now()
    with fake.client() as client, pytest.raises(WaitTimeoutError):
        client.wait("web", WEB_3, "started", timeout=150)
    waits = [r for r in fake.requests if r.endpoint == "fly_wait_machine"]
    assert [r.status for r in waits] == [408, 408, 408]
    assert fake.clock.now() - start == pytest.approx(150.0)


def test_client_wait_sees_a_change_made_while_it_waits(fake: FakeFly) -> None:
    with fake.client() as client:
        client.call("fly_start_machine", {"app_name": "web", "machine_id": WEB_3})
        assert client.wait("web", WEB_3, "started", timeout=120)["state"] == "started"


async def test_async_waits_run_concurrently_on_virtual_time(fake: FakeFly) -> None:
    async with fake.async_client() as client:
        for machine_id in (WEB_1, WEB_2):
            await client.call("fly_stop_machine", {"app_name": "web", "machine_id": machine_id})
        answers = await asyncio.gather(
            client.wait("web", WEB_1, "stopped"), client.wait("web", WEB_2, "stopped")
        )
    assert [a["state"] for a in answers] == ["stopped", "stopped"]


async def test_wait_on_a_real_clock_sleeps_scaled_real_time() -> None:
    fake = FakeFly.demo(clock=FakeClock.real(scale=1000.0))
    async with fake.async_client() as client:
        await client.call("fly_start_machine", {"app_name": "web", "machine_id": WEB_3})
        answer = await client.wait("web", WEB_3, "started", timeout=10)
    assert answer["state"] == "started"
