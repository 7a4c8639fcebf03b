"""Cordon, memory and metadata in the fake: Fly's answers, its refusals, and what the machine shows."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from fly_tools.client import ConflictError, FlyAPIError, FlyClient
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1, WEB_2, WEB_3, WORKER_1
from tests.fake.conftest import raw_client
from tests.fake.tour import drive, drive_async
from tests.fake.tour_maintenance import ORIGINAL_METADATA, maintenance_tour

W1 = f"/apps/web/machines/{WEB_1}"
M1: dict[str, Any] = {"app_name": "web", "machine_id": WEB_1}
MAINTENANCE = (
    "fly_cordon_machine",
    "fly_uncordon_machine",
    "fly_get_machine_memory",
    "fly_set_machine_memory_limit",
    "fly_reclaim_machine_memory",
    "fly_get_machine_metadata",
    "fly_update_machine_metadata",
    "fly_get_machine_metadata_key",
    "fly_set_machine_metadata_key",
    "fly_delete_machine_metadata_key",
)


@pytest.fixture
def client(fake: FakeFly) -> FlyClient:
    return fake.client()


def _sent(fake: FakeFly, name: str) -> list[tuple[str, str, int | None]]:
    return [(r.method, r.path, r.status) for r in fake.requests if r.endpoint == name]


# ---------------------------------------------------------------- tours


def test_the_tour_reaches_every_endpoint_with_the_sync_client(fake: FakeFly) -> None:
    drive(fake.client(), maintenance_tour())
    reached = {r.endpoint for r in fake.requests if r.status is not None and r.status < 400}
    assert set(MAINTENANCE) <= reached


def test_the_tour_runs_with_the_async_client(fake: FakeFly) -> None:
    async def run() -> None:
        async with fake.async_client() as client:
            await drive_async(client, maintenance_tour())

    asyncio.run(run())
    assert {r.endpoint for r in fake.requests} >= set(MAINTENANCE)


# ---------------------------------------------------------------- cordon


def test_a_cordoned_machine_shows_it_and_keeps_running(http: httpx.Client) -> None:
    answer = http.post(f"{W1}/cordon")
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    machine = http.get(W1).json()
    assert (machine["cordoned"], machine["state"]) == (True, "started")
    listed = {m["id"]: m["cordoned"] for m in http.get("/apps/web/machines").json()}
    assert listed == {WEB_1: True, WEB_2: False, WEB_3: False}
    assert http.post(f"{W1}/uncordon").status_code == 200
    assert http.get(W1).json()["cordoned"] is False


def test_cordon_on_a_leased_machine_needs_the_nonce(fake: FakeFly, client: FlyClient) -> None:
    lease = client.call("fly_acquire_lease", M1 | {"ttl": 60})
    with pytest.raises(ConflictError, match="leased"):
        client.call("fly_cordon_machine", M1)
    client.call("fly_cordon_machine", M1 | {"lease_nonce": lease["nonce"]})
    assert fake.state.machine("web", WEB_1).cordoned is True
    assert [s for _, _, s in _sent(fake, "fly_cordon_machine")] == [409, 200]


def test_cordon_of_an_unknown_or_other_apps_machine_is_404(http: httpx.Client) -> None:
    assert http.post("/apps/web/machines/0000000000dead/cordon").status_code == 404
    assert http.post(f"/apps/web/machines/{WORKER_1}/uncordon").status_code == 404


# ---------------------------------------------------------------- memory


def test_memory_starts_at_the_guest_size_and_follows_the_limit(http: httpx.Client) -> None:
    memory = http.get(f"{W1}/memory").json()
    assert memory["limit_mb"] == 256
    used = 256 - memory["available_mb"]
    assert 0 < used < 256
    lowered = http.put(f"{W1}/memory", json={"limit_mb": 128})
    assert lowered.json() == {"limit_mb": 128, "available_mb": 128 - used}
    assert http.get(f"{W1}/memory").json()["limit_mb"] == 128
    reclaimed = http.post(f"{W1}/memory/reclaim", json={"amount_mb": 20})
    assert reclaimed.json() == {"actual_mb": 20}
    assert http.post(f"{W1}/memory/reclaim", json={"amount_mb": 999}).json() == {
        "actual_mb": 128 - used
    }


def test_a_limit_below_the_workload_gets_it_oom_killed_and_restarted(
    fake: FakeFly, http: httpx.Client
) -> None:
    assert http.put(f"{W1}/memory", json={"limit_mb": 16}).status_code == 200
    fake.clock.advance(0.6)
    exited = http.get(f"{W1}/events").json()[0]
    assert exited["type"] == "exit"
    assert exited["request"]["exit_event"]["oom_killed"] is True
    fake.clock.advance(2)
    assert http.get(W1).json()["state"] == "started"  # restart policy on-failure


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"limit_mb": 512}, "between 1 and the machine's memory (256 MB)"),
        ({"limit_mb": 0}, "between 1"),
        ({}, "limit_mb"),
        ({"limit_mb": "128"}, "limit_mb"),
        ({"limit_mb": True}, "limit_mb"),
    ],
)
def test_a_memory_limit_is_checked(http: httpx.Client, body: dict[str, Any], error: str) -> None:
    response = http.put(f"{W1}/memory", json=body)
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_memory_needs_a_started_machine(http: httpx.Client) -> None:
    stopped = f"/apps/web/machines/{WEB_3}"
    for response in (
        http.get(f"{stopped}/memory"),
        http.put(f"{stopped}/memory", json={"limit_mb": 128}),
        http.post(f"{stopped}/memory/reclaim", json={"amount_mb": 8}),
    ):
        assert response.status_code == 412
        assert "current state: 'stopped'" in response.json()["error"]


# ---------------------------------------------------------------- metadata


def test_metadata_is_the_config_metadata(http: httpx.Client) -> None:
    assert http.get(f"{W1}/metadata").json() == ORIGINAL_METADATA
    assert http.get(f"{W1}/metadata/fly_process_group").json() == {"value": "app"}
    upserted = http.post(f"{W1}/metadata/role", json={"value": "primary"})
    assert (upserted.status_code, upserted.content) == (204, b"")
    assert http.get(W1).json()["config"]["metadata"]["role"] == "primary"
    # The list filter reads the same metadata.
    found = http.get("/apps/web/machines", params={"metadata.role": "primary"}).json()
    assert [m["id"] for m in found] == [WEB_1]


def test_metadata_changes_keep_the_version_and_the_state(http: httpx.Client) -> None:
    before, versions = http.get(W1).json(), len(http.get(f"{W1}/versions").json())
    http.post(f"{W1}/metadata/role", json={"value": "primary"})
    http.put(f"{W1}/metadata", json={"metadata": {"tier": "gold"}})
    after = http.get(W1).json()
    assert (after["version"], after["state"]) == (before["version"], "started")
    assert len(http.get(f"{W1}/versions").json()) == versions
    assert after["config"]["metadata"] == ORIGINAL_METADATA | {"role": "primary", "tier": "gold"}


def test_a_missing_key_is_404_to_read_and_fine_to_delete(http: httpx.Client) -> None:
    missing = http.get(f"{W1}/metadata/nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["error"]
    assert http.delete(f"{W1}/metadata/nope").status_code == 204


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_bulk_update_sets_and_removes_by_both_methods(http: httpx.Client, method: str) -> None:
    body = {"metadata": {"fly_platform_version": None, "tier": "gold", "fly_process_group": ""}}
    response = http.request(method, f"{W1}/metadata", json=body)
    assert response.status_code == 204
    assert http.get(f"{W1}/metadata").json() == {"tier": "gold"}


def test_bulk_update_honours_machine_version(fake: FakeFly, client: FlyClient) -> None:
    version = client.call("fly_get_machine", M1)["version"]
    update = M1 | {"changes": {"tier": "gold"}}
    with pytest.raises(FlyAPIError, match="version mismatch") as refused:
        client.call("fly_update_machine_metadata", update | {"machine_version": "01OLDVERSION"})
    assert refused.value.status == 412
    assert "fly_get_machine" in str(refused.value.advice)  # the record's advice for 412
    client.call("fly_update_machine_metadata", update | {"machine_version": version})
    assert fake.state.machine("web", WEB_1).config["metadata"]["tier"] == "gold"
    assert [s for *_, s in _sent(fake, "fly_update_machine_metadata")] == [412, 204]


@pytest.mark.parametrize(
    ("method", "path", "body", "error"),
    [
        ("POST", "/metadata/role", {}, "value is required"),
        ("POST", "/metadata/role", {"value": 7}, "value"),
        ("POST", "/metadata/%2e%2e", {"value": "x"}, "metadata key"),
        ("POST", "/metadata/a%20b", {"value": "x"}, "metadata key"),
        ("GET", "/metadata/..x", None, "metadata key"),
        ("PUT", "/metadata", {"metadata": {}}, "metadata is required"),
        ("PUT", "/metadata", {"metadata": {"role": 1}}, "metadata.role"),
        ("PUT", "/metadata", {"metadata": {"bad key": "x"}}, "metadata key"),
    ],
)
def test_metadata_requests_are_checked(
    http: httpx.Client, method: str, path: str, body: Any, error: str
) -> None:
    response = http.request(method, W1 + path, json=body)
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_a_readonly_token_reads_metadata_but_cannot_change_it(fake: FakeFly) -> None:
    with raw_client(fake, fake.tokens["readonly"]) as reader:
        assert reader.get(f"{W1}/metadata").status_code == 200
        assert reader.get(f"{W1}/memory").status_code == 200
        assert reader.post(f"{W1}/metadata/role", json={"value": "x"}).status_code == 403
        assert reader.post(f"{W1}/cordon").status_code == 403
    assert "role" not in fake.state.machine("web", WEB_1).config["metadata"]
