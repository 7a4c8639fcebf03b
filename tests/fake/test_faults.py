"""Injected faults: error statuses, connection resets, slow answers; and the request log."""

from __future__ import annotations

import httpx
import pytest

from fly_tools.client import FlyConnectionError, FlyTimeoutError, RateLimitedError, ServerError
from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.world import WEB_1

CREATE = {"app_name": "web", "image": "nginx:1.27"}


def machine_count(fake: FakeFly) -> int:
    return len(fake.state.apps["web"].machines)


def test_status_faults_hit_only_matching_requests(fake: FakeFly, http: httpx.Client) -> None:
    rule = fake.inject(Fault.status(503), count=2, match="POST /apps/*/machines")
    assert http.get("/apps/web/machines").status_code == 200
    body = {"config": {"image": "x:1"}}
    codes = [http.post("/apps/web/machines", json=body).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert rule.remaining == 0
    assert machine_count(fake) == 4
    assert [r.fault for r in fake.requests] == [None, "status 503", "status 503", None]


def test_a_429_fault_carries_retry_after(fake: FakeFly, http: httpx.Client) -> None:
    fake.inject(Fault.status(429, retry_after=2), match="fly_get_app")
    response = http.get("/apps/web")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert http.get("/apps/web").status_code == 200


@pytest.mark.parametrize(
    "match", [None, "*", "fly_get_machine", "/apps/web/machines/*", f"GET /v1/apps/**/{WEB_1}"]
)
def test_selectors(fake: FakeFly, http: httpx.Client, match: str | None) -> None:
    fake.inject(Fault.status(500), match=match)
    assert http.get(f"/apps/web/machines/{WEB_1}").status_code == 500


def test_a_selector_for_another_method_or_path_does_not_match(
    fake: FakeFly, http: httpx.Client
) -> None:
    fake.inject(Fault.status(500), match="DELETE /apps/*/machines/*")
    fake.inject(Fault.status(500), match="/apps/*/volumes")
    assert http.get(f"/apps/web/machines/{WEB_1}").status_code == 200
    fake.clear_faults()
    assert http.get("/apps/web/volumes").status_code == 200


def test_client_retries_idempotent_calls_through_503(fake: FakeFly) -> None:
    fake.inject(Fault.status(503), count=2, match="fly_get_machine")
    machine = fake.client().call("fly_get_machine", {"app_name": "web", "machine_id": WEB_1})
    assert machine["id"] == WEB_1
    assert [r.status for r in fake.requests] == [503, 503, 200]


def test_client_does_not_resend_a_create_after_503(fake: FakeFly) -> None:
    fake.inject(Fault.status(503), match="fly_create_machine")
    with pytest.raises(ServerError):
        fake.client().call("fly_create_machine", CREATE)
    assert len(fake.requests) == 1
    assert machine_count(fake) == 3


def test_client_gives_up_on_429_after_its_retries(fake: FakeFly) -> None:
    fake.inject(Fault.status(429, retry_after=1), count=5)
    with pytest.raises(RateLimitedError):
        fake.client(max_retries=2).call("fly_get_app", {"app_name": "web"})
    assert len(fake.requests) == 3


def test_reset_before_changes_nothing(fake: FakeFly, http: httpx.Client) -> None:
    fake.inject(Fault.reset(before=True), match="fly_create_machine")
    with pytest.raises(httpx.ConnectError):
        http.post("/apps/web/machines", json={"config": {"image": "x:1"}})
    assert machine_count(fake) == 3
    assert (fake.requests[0].status, fake.requests[0].fault) == (None, "reset before")


def test_reset_after_changes_state_but_loses_the_answer(fake: FakeFly, http: httpx.Client) -> None:
    fake.inject(Fault.reset(before=False), match="fly_create_machine")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/apps/web/machines", json={"config": {"image": "x:1"}})
    assert machine_count(fake) == 4


def test_client_retries_a_create_reset_before_sending(fake: FakeFly) -> None:
    fake.inject(Fault.reset(before=True), match="fly_create_machine")
    fake.client().call("fly_create_machine", CREATE)
    assert machine_count(fake) == 4
    assert len(fake.requests) == 2


def test_client_never_resends_a_create_reset_after_sending(fake: FakeFly) -> None:
    fake.inject(Fault.reset(before=False), match="fly_create_machine")
    with pytest.raises(FlyConnectionError) as caught:
        fake.client().call("fly_create_machine", CREATE)
    assert caught.value.request_sent
    assert machine_count(fake) == 4
    assert len(fake.requests) == 1


def test_slow_answers_take_fake_time(fake: FakeFly, http: httpx.Client) -> None:
    fake.inject(Fault.slow(3))
    start = fake.clock.now()
    assert http.get("/apps/web").status_code == 200
    assert fake.clock.now() - start == pytest.approx(3.0)


def test_slower_than_the_read_timeout_is_a_timeout_after_the_change(fake: FakeFly) -> None:
    fake.inject(Fault.slow(30), match="fly_create_machine")
    start = fake.clock.now()
    with pytest.raises(FlyTimeoutError):
        fake.client(timeout=5).call("fly_create_machine", CREATE)
    assert fake.clock.now() - start == pytest.approx(5.0)
    assert machine_count(fake) == 4
    assert len(fake.requests) == 1


async def test_faults_apply_to_async_clients(fake: FakeFly) -> None:
    fake.inject(Fault.status(502), count=1, match="fly_list_apps")
    async with fake.async_client() as client:
        apps = await client.call("fly_list_apps", {"org_slug": "acme"})
    assert apps["total_apps"] == 2
    assert [r.status for r in fake.requests] == [502, 200]


def test_fault_arguments_are_checked(fake: FakeFly) -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        Fault.status(200)
    with pytest.raises(ValueError, match="> 0"):
        Fault.slow(0)
    with pytest.raises(ValueError, match="count"):
        fake.inject(Fault.reset(), count=0)


def test_the_request_log_never_holds_the_token_and_can_be_cleared(
    fake: FakeFly, http: httpx.Client
) -> None:
    http.post("/apps/web/secrets/API_KEY", json={"value": "very-secret-value"})
    logged = repr(fake.requests)
    assert fake.tokens["org"] not in logged
    assert "very-secret-value" not in logged
    assert fake.requests[0].endpoint == "fly_set_secret"
    assert fake.requests[0].status == 201
    fake.clear_requests()
    assert fake.requests == []
