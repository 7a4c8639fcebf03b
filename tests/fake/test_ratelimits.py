"""Fly's per-action rate limits on the fake's clock: 429 with Retry-After."""

from __future__ import annotations

import httpx
import pytest

from fly_tools.testing import FakeClock, FakeFly
from fly_tools.testing.state import APP_READY_DELAY
from fly_tools.testing.world import WEB_1, WEB_2
from tests.fake.conftest import raw_client


@pytest.fixture
def limited() -> FakeFly:
    return FakeFly.demo(rate_limits=True)


@pytest.fixture
def http(limited: FakeFly) -> httpx.Client:
    return raw_client(limited, limited.tokens["org"])


def statuses(http: httpx.Client, path: str, n: int) -> list[int]:
    return [http.get(path).status_code for _ in range(n)]


def test_standard_actions_allow_a_burst_of_3_then_1_per_second(
    limited: FakeFly, http: httpx.Client
) -> None:
    assert statuses(http, "/apps/web", 4) == [200, 200, 200, 429]
    refused = http.get("/apps/web")
    assert refused.json() == {"error": "rate limit exceeded"}
    assert refused.headers["Retry-After"] == "1"
    limited.clock.advance(1)
    assert statuses(http, "/apps/web", 2) == [200, 429]


def test_get_machine_allows_5_per_second_burst_10(limited: FakeFly, http: httpx.Client) -> None:
    path = f"/apps/web/machines/{WEB_1}"
    assert statuses(http, path, 11) == [200] * 10 + [429]
    limited.clock.advance(0.2)
    assert statuses(http, path, 2) == [200, 429]


def test_limits_are_per_action_and_per_machine(http: httpx.Client) -> None:
    for machine_id in (WEB_1, WEB_2):
        assert statuses(http, f"/apps/web/machines/{machine_id}/events", 4)[-1] == 429
    assert http.get(f"/apps/web/machines/{WEB_1}/versions").status_code == 200


def test_app_deletions_allow_100_per_minute(limited: FakeFly, http: httpx.Client) -> None:
    for n in range(101):
        http.post("/apps", json={"name": f"tmp-{n}", "org_slug": "acme"})
        limited.clock.advance(1)  # creating is limited separately; new apps get served
    limited.clock.advance(APP_READY_DELAY)
    deleted = [http.delete(f"/apps/tmp-{n}").status_code for n in range(101)]
    assert deleted == [202] * 100 + [429]
    assert int(http.delete("/apps/tmp-100").headers["Retry-After"]) >= 1


def test_a_refused_request_changes_nothing(limited: FakeFly, http: httpx.Client) -> None:
    for _ in range(3):
        http.post(f"/apps/web/machines/{WEB_2}/signal", json={"signal": "SIGHUP"})
    events = len(limited.state.apps["web"].machines[WEB_2].events)
    assert (
        http.post(f"/apps/web/machines/{WEB_2}/signal", json={"signal": "SIGHUP"}).status_code
        == 429
    )
    assert len(limited.state.apps["web"].machines[WEB_2].events) == events


def test_the_client_honours_retry_after_on_the_fake_clock(limited: FakeFly) -> None:
    client = limited.client(max_retries=3)
    start = limited.clock.now()
    for _ in range(5):
        client.call("fly_get_app", {"app_name": "web"})
    assert [r.status for r in limited.requests] == [200, 200, 200, 429, 200, 429, 200]
    assert limited.clock.now() - start == pytest.approx(2.0)


def test_client_pacing_avoids_429s(limited: FakeFly) -> None:
    client = limited.client(rate_limit=True)
    for _ in range(6):
        client.call("fly_get_app", {"app_name": "web"})
    assert {r.status for r in limited.requests} == {200}


def test_limits_can_be_switched_at_runtime(limited: FakeFly, http: httpx.Client) -> None:
    limited.rate_limits = False
    assert set(statuses(http, "/apps/web", 10)) == {200}


def test_a_scaled_real_clock_refills_buckets_in_scaled_time() -> None:
    ticks = [0.0]
    fake = FakeFly.demo(rate_limits=True, clock=FakeClock.real(10.0, timer=lambda: ticks[0]))
    http = raw_client(fake, fake.tokens["org"])
    assert statuses(http, "/apps/web", 4)[-1] == 429
    ticks[0] += 0.1  # a tenth of a real second is one fake second
    assert http.get("/apps/web").status_code == 200
