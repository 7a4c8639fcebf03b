"""Apps, volumes and secrets: Fly's rules for sizes, attachment, versions and values."""

from __future__ import annotations

import httpx
import pytest

from fly_tools.client import BadRequestError, FlyClient, NotFoundError
from fly_tools.testing import FakeFly
from fly_tools.testing.volumes import LINGER
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1


@pytest.fixture
def client(fake: FakeFly) -> FlyClient:
    return fake.client()


def test_volumes_default_to_3_gb_in_the_apps_primary_region(http: httpx.Client) -> None:
    created = http.post("/apps/worker/volumes", json={"name": "cache"}).json()
    assert (created["size_gb"], created["region"], created["encrypted"]) == (3, "iad", True)
    assert created["bytes_total"] == 3 * 2**30
    assert created["id"].startswith("vol_")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": "x", "size_gb": 0}, "between 1 and 500"),
        ({"name": "x", "size_gb": 501}, "between 1 and 500"),
        ({"name": "Bad-Name"}, "volume name"),
        ({"name": "x", "region": "chicago"}, "region"),
        ({"name": "x", "snapshot_retention": 90}, "snapshot_retention"),
        ({"size_gb": 1}, "name"),
    ],
)
def test_volume_creation_is_checked(
    http: httpx.Client, body: dict[str, object], error: str
) -> None:
    response = http.post("/apps/web/volumes", json=body)
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_a_fork_copies_region_and_at_least_the_size(http: httpx.Client) -> None:
    fork = http.post(
        "/apps/web/volumes", json={"name": "copy", "source_volume_id": VOL_DATA, "size_gb": 1}
    ).json()
    assert (fork["region"], fork["size_gb"]) == ("ord", 10)


def test_volumes_only_grow(client: FlyClient) -> None:
    ids = {"app_name": "web", "volume_id": VOL_DATA_OLD}
    with pytest.raises(BadRequestError, match="can only grow"):
        client.call("fly_extend_volume", ids | {"size_gb": 3})
    grown = client.call("fly_extend_volume", ids | {"size_gb": 4})
    assert grown == {"volume": grown["volume"], "needs_restart": False}
    assert grown["volume"]["size_gb"] == 4


def test_an_attached_volume_cannot_be_deleted(fake: FakeFly, client: FlyClient) -> None:
    ids = {"app_name": "web", "volume_id": VOL_DATA}
    with pytest.raises(BadRequestError, match=f"attached to machine {WEB_1}"):
        client.call("fly_delete_volume", ids)
    assert VOL_DATA in fake.state.apps["web"].volumes
    client.call("fly_delete_machine", {"app_name": "web", "machine_id": WEB_1, "force": True})
    assert client.call("fly_delete_volume", ids)["state"] == "scheduling_destroy"
    with pytest.raises(NotFoundError):  # changing a deleted volume: it is not there any more
        client.call("fly_extend_volume", ids | {"size_gb": 20})


def test_a_deleted_volume_lingers_in_its_destroy_states(fake: FakeFly, client: FlyClient) -> None:
    ids = {"app_name": "web", "volume_id": VOL_DATA_OLD}
    client.call("fly_delete_volume", ids)

    def state() -> str:
        listed = {v["id"]: v for v in client.call("fly_list_volumes", {"app_name": "web"})}
        assert client.call("fly_get_volume", ids)["state"] == listed[VOL_DATA_OLD]["state"]
        return str(listed[VOL_DATA_OLD]["state"])

    assert state() == "scheduling_destroy"
    fake.clock.advance(1)
    assert state() == "pending_destroy"
    fake.clock.advance(4)
    assert state() == "destroying"
    assert client.call("fly_get_app", {"app_name": "web"})["volume_count"] == 1
    with pytest.raises(NotFoundError):  # a repeated delete finds nothing to delete
        client.call("fly_delete_volume", ids)
    fake.clock.advance(LINGER)
    listed = client.call("fly_list_volumes", {"app_name": "web"})
    assert [v["id"] for v in listed] == [VOL_DATA]
    with pytest.raises(NotFoundError):
        client.call("fly_get_volume", ids)


def test_updating_a_machine_off_its_volume_detaches_it(fake: FakeFly, http: httpx.Client) -> None:
    config = http.get(f"/apps/web/machines/{WEB_1}").json()["config"]
    del config["mounts"]
    assert http.post(f"/apps/web/machines/{WEB_1}", json={"config": config}).status_code == 200
    assert fake.state.apps["web"].volumes[VOL_DATA].attached_machine_id is None


def test_secrets_keep_values_inside(fake: FakeFly, client: FlyClient) -> None:
    first = client.call(
        "fly_set_secret", {"app_name": "web", "secret_name": "API_KEY", "value": "one"}
    )
    second = client.call(
        "fly_set_secret", {"app_name": "web", "secret_name": "API_KEY", "value": "two"}
    )
    assert (first["version"], second["version"]) == (3, 4)
    assert first["digest"] != second["digest"]
    assert first["created_at"] == second["created_at"]
    listed = client.call("fly_list_secrets", {"app_name": "web"})["secrets"]
    assert [s["name"] for s in listed] == ["API_KEY", "DATABASE_URL", "SESSION_SECRET"]
    assert "two" not in repr(fake.state.apps["web"].secrets)
    deleted = client.call("fly_delete_secret", {"app_name": "web", "secret_name": "API_KEY"})
    assert deleted == {"version": 5, "Version": 5}
    with pytest.raises(NotFoundError):
        client.call("fly_delete_secret", {"app_name": "web", "secret_name": "API_KEY"})


def test_a_secret_name_must_be_an_env_var_name(http: httpx.Client) -> None:
    response = http.post("/apps/web/secrets/1BAD", json={"value": "x"})
    assert response.status_code == 400
    assert "environment variable name" in response.json()["error"]


def test_min_secrets_version_cannot_be_ahead(http: httpx.Client) -> None:
    body = {"config": {"image": "x:1"}, "min_secrets_version": 3}
    response = http.post("/apps/web/machines", json=body)
    assert response.status_code == 400
    assert "ahead" in response.json()["error"]
    assert (
        http.post("/apps/web/machines", json=body | {"min_secrets_version": 2}).status_code == 200
    )


def test_deleting_an_app_takes_everything_with_it(fake: FakeFly, client: FlyClient) -> None:
    client.call("fly_delete_app", {"app_name": "web"})
    assert "web" not in fake.state.apps
    with pytest.raises(NotFoundError):
        client.call("fly_list_volumes", {"app_name": "web"})
    client.call("fly_create_app", {"app_name": "web", "org_slug": "acme"})
    assert client.call("fly_list_machines", {"app_name": "web"}) == []
