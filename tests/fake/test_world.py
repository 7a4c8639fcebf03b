"""The demo world: fixed ids, states, regions, attachments; reset and determinism."""

from __future__ import annotations

import re

import httpx

from fly_tools.testing import FakeFly, Fault
from fly_tools.testing import world as w


def machines(http: httpx.Client, app: str) -> dict[str, dict[str, object]]:
    return {m["name"]: m for m in http.get(f"/apps/{app}/machines").json()}


def test_the_demo_world_is_as_documented(http: httpx.Client) -> None:
    apps = http.get("/apps", params={"org_slug": "acme"}).json()["apps"]
    assert {a["name"] for a in apps} == {w.WEB_APP, w.WORKER_APP}
    assert apps[0]["organization"]["name"] == w.ORG_NAME
    layout = {
        (name, m["id"], m["state"], m["region"])
        for app in (w.WEB_APP, w.WORKER_APP)
        for name, m in machines(http, app).items()
    }
    assert layout == {
        ("web-1", w.WEB_1, "started", "ord"),
        ("web-2", w.WEB_2, "started", "ams"),
        ("web-3", w.WEB_3, "stopped", "ord"),
        ("worker-1", w.WORKER_1, "started", "iad"),
        ("worker-2", w.WORKER_2, "suspended", "iad"),
        ("worker-3", w.WORKER_3, "stopped", "fra"),
    }
    assert {name: mid for name, mid, _, _ in layout} == w.MACHINES


def test_web_1_has_image_size_service_check_and_volume(http: httpx.Client) -> None:
    web_1 = http.get(f"/apps/web/machines/{w.WEB_1}").json()
    config = web_1["config"]
    assert config["image"] == w.WEB_IMAGE
    assert config["guest"] == {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}
    assert config["services"][0]["internal_port"] == 8080
    assert config["mounts"][0] | {} == {
        "volume": w.VOL_DATA,
        "path": "/data",
        "name": "data",
        "size_gb": 10,
        "encrypted": True,
    }
    assert [(c["status"], c["name"]) for c in web_1["checks"]] == [
        ("passing", "servicecheck-00-http-8080")
    ]
    assert "mounts" not in machines(http, "web")["web-2"]["config"]  # type: ignore[operator]


def test_volumes_and_secrets(http: httpx.Client) -> None:
    volumes = {v["name"]: v for v in http.get("/apps/web/volumes").json()}
    assert volumes["data"]["id"] == w.VOL_DATA
    assert volumes["data"]["size_gb"] == 10
    assert volumes["data"]["attached_machine_id"] == w.WEB_1
    assert volumes["data_old"]["id"] == w.VOL_DATA_OLD
    assert volumes["data_old"]["size_gb"] == 3
    assert volumes["data_old"]["attached_machine_id"] is None  # null, as Fly sends it
    assert volumes["data"]["attached_alloc_id"] is None
    assert {v["region"] for v in volumes.values()} == {"ord"}
    for app, names in ((w.WEB_APP, w.WEB_SECRETS), (w.WORKER_APP, w.WORKER_SECRETS)):
        secrets = http.get(f"/apps/{app}/secrets").json()["secrets"]
        assert tuple(s["name"] for s in secrets) == names


def test_every_machine_has_history_and_fly_shaped_ids(fake: FakeFly, http: httpx.Client) -> None:
    for app in (w.WEB_APP, w.WORKER_APP):
        for m in machines(http, app).values():
            assert re.fullmatch(r"[0-9a-f]{14}", str(m["id"]))
            assert str(m["private_ip"]).startswith("fdaa:")
            assert m["events"]
            assert str(m["created_at"]) < str(m["updated_at"])
            versions = http.get(f"/apps/{app}/machines/{m['id']}/versions").json()
            assert versions
            assert versions[0]["version"] == m["instance_id"]
    assert all(re.fullmatch(r"vol_[a-z0-9]{16}", v) for v in (w.VOL_DATA, w.VOL_DATA_OLD))
    web_1_versions = http.get(f"/apps/web/machines/{w.WEB_1}/versions").json()
    assert [v["user_config"]["image"] for v in web_1_versions] == [
        w.WEB_IMAGE,
        w.WEB_PREVIOUS_IMAGE,
    ]


def test_two_demo_worlds_are_identical() -> None:
    first, second = FakeFly.demo(), FakeFly.demo()
    for fake in (first, second):
        fake.client().call("fly_create_machine", {"app_name": "web", "image": "x:1"})
    snapshot = [
        {m.id: (m.private_ip, m.version, m.name) for m in app.machines.values()}
        for fake in (first, second)
        for app in fake.state.apps.values()
    ]
    assert snapshot[:2] == snapshot[2:]


def test_reset_restores_the_world_and_keeps_tokens_and_clients(fake: FakeFly) -> None:
    client = fake.client()
    client.call("fly_delete_app", {"app_name": "worker"})
    fake.inject(Fault.status(500), count=5)
    fake.reset()
    assert fake.requests == []
    assert client.call("fly_get_app", {"app_name": "worker"})["machine_count"] == 3
    assert client.call("fly_list_machines", {"app_name": "web"})[0]["id"] == w.WEB_1


def test_an_empty_fake_has_an_org_and_ready_tokens() -> None:
    fake = FakeFly(org="initech", org_name="Initech")
    assert set(fake.tokens) == {"org", "deploy", "readonly", "machine-exec"}
    client = fake.client()
    assert client.call("fly_list_apps", {"org_slug": "initech"}) == {"total_apps": 0, "apps": []}
    client.call("fly_create_app", {"app_name": "web", "org_slug": "initech"})
    deploy = fake.client(scope="deploy")
    assert deploy.call("fly_get_app", {"app_name": "web"})["organization"]["name"] == "Initech"
    assert "initech" in repr(fake)
