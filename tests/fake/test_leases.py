"""Leases: nonce, TTL on the fake's clock, 409 when held, nonce needed to modify."""

from __future__ import annotations

import httpx
import pytest

from fly_tools.client import ConflictError, FlyClient, NotFoundError
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1, WEB_2

LEASE = f"/apps/web/machines/{WEB_2}/lease"
IDS = {"app_name": "web", "machine_id": WEB_2}
NONCE = "fly-machine-lease-nonce"


def test_acquire_answers_201_wrapped_with_a_json_body(fake: FakeFly, http: httpx.Client) -> None:
    response = http.post(LEASE, json={"ttl": 30, "description": "deploy"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "success"
    assert body["data"]["expires_at"] == int(fake.clock.now()) + 30
    assert body["data"]["owner"] == "org-token@acme"
    assert body["data"]["description"] == "deploy"


def test_fly_go_sends_ttl_in_the_query_without_a_body(fake: FakeFly, http: httpx.Client) -> None:
    response = http.post(LEASE, params={"ttl": 120})
    assert response.json()["data"]["expires_at"] == int(fake.clock.now()) + 120


def test_a_held_lease_refuses_others_and_refreshes_for_its_holder(
    fake: FakeFly, http: httpx.Client
) -> None:
    nonce = http.post(LEASE, json={"ttl": 10}).json()["data"]["nonce"]
    assert http.post(LEASE, json={"ttl": 10}).status_code == 409
    fake.clock.advance(5)
    refreshed = http.post(LEASE, params={"ttl": 10}, headers={NONCE: nonce}).json()["data"]
    assert refreshed["nonce"] == nonce
    assert refreshed["expires_at"] == int(fake.clock.now()) + 10


def test_modifying_calls_need_the_nonce(fake: FakeFly) -> None:
    client = fake.client()
    lease = client.call("fly_acquire_lease", IDS | {"ttl": 60})
    for call in ("fly_stop_machine", "fly_suspend_machine", "fly_restart_machine"):
        with pytest.raises(ConflictError, match="leased by org-token@acme"):
            client.call(call, IDS)
    with pytest.raises(ConflictError):
        client.call("fly_update_machine", IDS | {"memory_mb": 512})
    # Like fly-go, exec and signal are not guarded by the lease.
    client.call("fly_signal_machine", IDS | {"signal": "SIGHUP"})
    client.call("fly_stop_machine", IDS | {"lease_nonce": lease["nonce"]})
    assert client.wait("web", WEB_2, "stopped")["state"] == "stopped"


def test_a_lease_expires_on_the_fake_clock(fake: FakeFly) -> None:
    client = fake.client()
    client.call("fly_acquire_lease", IDS | {"ttl": 30})
    fake.clock.advance(29)
    assert client.call("fly_get_lease", IDS)["expires_at"] == int(fake.clock.now()) + 1
    fake.clock.advance(1)
    assert client.call("fly_get_lease", IDS) == {"lease": None}  # no lease: an answer
    assert fake.requests[-1].status == 404
    client.call("fly_stop_machine", IDS)


def test_release_needs_the_right_nonce(fake: FakeFly, http: httpx.Client) -> None:
    nonce = http.post(LEASE, json={"ttl": 60}).json()["data"]["nonce"]
    assert http.delete(LEASE).status_code == 400
    assert http.delete(LEASE, headers={NONCE: "f" * 32}).status_code == 409
    released = http.delete(LEASE, headers={NONCE: nonce})
    assert released.json() == {"status": "success", "data": {"ok": True}}
    assert http.delete(LEASE, headers={NONCE: nonce}).status_code == 404


def test_create_with_lease_ttl_returns_the_nonce(fake: FakeFly, http: httpx.Client) -> None:
    created = http.post(
        "/apps/web/machines", json={"config": {"image": "x:1"}, "lease_ttl": 60}
    ).json()
    held = http.get(f"/apps/web/machines/{created['id']}/lease").json()["data"]
    assert created["nonce"] == held["nonce"]


def test_client_release_without_a_lease_is_404(fake: FakeFly) -> None:
    client: FlyClient = fake.client()
    with pytest.raises(NotFoundError):
        client.call(
            "fly_release_lease", {"app_name": "web", "machine_id": WEB_1, "lease_nonce": "abc"}
        )


def test_a_non_positive_ttl_is_a_400(http: httpx.Client) -> None:
    response = http.post(LEASE, params={"ttl": 0})
    assert response.status_code == 400
    assert response.json()["error"].startswith("ttl:")
