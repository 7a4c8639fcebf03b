"""Machine lifecycle on virtual time: states, transitions, events, versions, Fly's rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fly_tools.client import BadRequestError, ConflictError, FlyAPIError, FlyClient
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1, WEB_2, WEB_3, WORKER_1, WORKER_2


@pytest.fixture
def client(fake: FakeFly) -> FlyClient:
    return fake.client()


def machine(client: FlyClient, machine_id: str, app: str = "web") -> dict[str, Any]:
    return client.call("fly_get_machine", {"app_name": app, "machine_id": machine_id})  # type: ignore[no-any-return]


def test_a_new_machine_is_created_then_starting_then_started(
    fake: FakeFly, client: FlyClient
) -> None:
    created = client.call("fly_create_machine", {"app_name": "web", "image": "nginx:1.27"})
    assert created["state"] == "created"
    assert machine(client, created["id"])["state"] == "starting"
    fake.clock.advance(1)
    started = machine(client, created["id"])
    assert started["state"] == "started"
    assert [e["status"] for e in started["events"]][:3] == ["started", "starting", "created"]


def test_skip_launch_leaves_a_machine_created(fake: FakeFly, client: FlyClient) -> None:
    created = client.call(
        "fly_create_machine", {"app_name": "web", "image": "nginx:1.27", "skip_launch": True}
    )
    fake.clock.advance(60)
    assert machine(client, created["id"])["state"] == "created"


def test_stop_takes_two_seconds_and_logs_an_exit(fake: FakeFly, client: FlyClient) -> None:
    client.call("fly_stop_machine", {"app_name": "web", "machine_id": WEB_2})
    assert machine(client, WEB_2)["state"] == "stopping"
    fake.clock.advance(1.9)
    assert machine(client, WEB_2)["state"] == "stopping"
    fake.clock.advance(0.1)
    stopped = machine(client, WEB_2)
    assert stopped["state"] == "stopped"
    assert stopped["events"][0]["type"] == "exit"
    assert stopped["checks"][0]["status"] == "critical"


@pytest.mark.parametrize(
    ("call", "machine_id", "message"),
    [
        ("fly_suspend_machine", WEB_3, "unable to suspend machine from current state: 'stopped'"),
        ("fly_restart_machine", WEB_3, "unable to restart machine from current state: 'stopped'"),
        ("fly_signal_machine", WEB_3, "unable to signal machine from current state: 'stopped'"),
        ("fly_delete_machine", WEB_1, "not currently stopped or suspended"),
    ],
)
def test_impossible_transitions_answer_412(
    client: FlyClient, call: str, machine_id: str, message: str
) -> None:
    args: dict[str, Any] = {"app_name": "web", "machine_id": machine_id}
    if call == "fly_signal_machine":
        args["signal"] = "SIGHUP"
    with pytest.raises(FlyAPIError) as caught:
        client.call(call, args)
    assert caught.value.status == 412
    assert message in caught.value.message


def test_start_is_a_no_op_on_a_started_machine(client: FlyClient) -> None:
    answer = client.call("fly_start_machine", {"app_name": "web", "machine_id": WEB_1})
    assert answer == {"previous_state": "started", "migrated": False, "new_host": ""}
    assert machine(client, WEB_1)["state"] == "started"


def test_start_resumes_a_suspended_machine(fake: FakeFly, client: FlyClient) -> None:
    answer = client.call("fly_start_machine", {"app_name": "worker", "machine_id": WORKER_2})
    assert answer["previous_state"] == "suspended"
    fake.clock.advance(1)
    assert machine(client, WORKER_2, "worker")["state"] == "started"


def test_force_destroys_a_running_machine_and_frees_its_volume(
    fake: FakeFly, client: FlyClient
) -> None:
    client.call("fly_delete_machine", {"app_name": "web", "machine_id": WEB_1, "force": True})
    assert machine(client, WEB_1)["state"] == "destroying"
    fake.clock.advance(1)
    assert machine(client, WEB_1)["state"] == "destroyed"
    listed = client.call("fly_list_machines", {"app_name": "web"})
    assert WEB_1 not in [m["id"] for m in listed]
    everything = client.call("fly_list_machines", {"app_name": "web", "include_deleted": True})
    assert WEB_1 in [m["id"] for m in everything]
    volumes = client.call("fly_list_volumes", {"app_name": "web"})
    assert all(v["attached_machine_id"] is None for v in volumes)


def test_update_restarts_a_running_machine_with_a_new_version(
    fake: FakeFly, client: FlyClient
) -> None:
    before = machine(client, WEB_2)
    updated = client.call(
        "fly_update_machine", {"app_name": "web", "machine_id": WEB_2, "image": "nginx:1.28"}
    )
    assert updated["state"] == "starting"  # what Fly's docs show
    assert updated["instance_id"] != before["instance_id"]
    assert updated["config"]["services"] == before["config"]["services"]  # whole config kept
    fake.clock.advance(2)
    after = machine(client, WEB_2)
    assert after["state"] == "started"
    assert after["image_ref"]["tag"] == "1.28"
    versions = client.call("fly_list_machine_versions", {"app_name": "web", "machine_id": WEB_2})
    assert [v["user_config"]["image"] for v in versions][:2] == [
        "nginx:1.28",
        before["config"]["image"],
    ]


def test_update_leaves_a_stopped_machine_stopped(fake: FakeFly, client: FlyClient) -> None:
    client.call("fly_update_machine", {"app_name": "web", "machine_id": WEB_3, "memory_mb": 512})
    fake.clock.advance(5)
    after = machine(client, WEB_3)
    assert after["state"] == "stopped"
    assert after["config"]["guest"]["memory_mb"] == 512


def test_update_needs_the_whole_config(http: httpx.Client) -> None:
    response = http.post(f"/apps/web/machines/{WEB_1}", json={"config": {"env": {"A": "b"}}})
    assert response.status_code == 400
    assert "config.image is required" in response.json()["error"]


def test_update_honours_current_version(client: FlyClient) -> None:
    with pytest.raises(ConflictError, match="version"):
        client.call(
            "fly_update_machine",
            {"app_name": "web", "machine_id": WEB_1, "image": "x:1", "current_version": "01STALE"},
        )


@pytest.mark.parametrize(("field", "value"), [("name", "renamed"), ("region", "syd")])
def test_name_and_region_are_immutable(http: httpx.Client, field: str, value: str) -> None:
    current = http.get(f"/apps/web/machines/{WEB_1}").json()
    response = http.post(
        f"/apps/web/machines/{WEB_1}", json={"config": current["config"], field: value}
    )
    assert response.status_code == 400
    assert "cannot be changed" in response.json()["error"]


@pytest.mark.parametrize(("policy", "final"), [("no", "stopped"), ("always", "started")])
def test_a_killed_process_follows_the_restart_policy(
    fake: FakeFly, client: FlyClient, policy: str, final: str
) -> None:
    created = client.call(
        "fly_create_machine",
        {"app_name": "worker", "image": "worker:1", "restart_policy": policy},
    )
    ids = {"app_name": "worker", "machine_id": created["id"]}
    client.wait("worker", created["id"], "started")
    client.call("fly_signal_machine", ids | {"signal": "SIGKILL"})
    fake.clock.advance(2)
    settled = machine(client, created["id"], "worker")
    assert settled["state"] == final
    exits = [e for e in settled["events"] if e["type"] == "exit"]
    assert exits[0]["request"]["exit_event"]["exit_code"] == 137


def test_exec_runs_in_started_machines_only(client: FlyClient) -> None:
    ran = client.call(
        "fly_exec_machine", {"app_name": "worker", "machine_id": WORKER_1, "command": ["env"]}
    )
    assert "QUEUES=default,mail" in ran["stdout"]
    assert ran["exit_code"] == 0
    missing = client.call(
        "fly_exec_machine", {"app_name": "worker", "machine_id": WORKER_1, "command": ["nope"]}
    )
    assert missing["exit_code"] == 127
    with pytest.raises(FlyAPIError) as caught:
        client.call(
            "fly_exec_machine", {"app_name": "worker", "machine_id": WORKER_2, "command": ["ls"]}
        )
    assert caught.value.status == 412


def test_exec_env_never_shows_secret_values(fake: FakeFly, client: FlyClient) -> None:
    ran = client.call(
        "fly_exec_machine", {"app_name": "web", "machine_id": WEB_1, "command": ["env"]}
    )
    assert all(s.value not in ran["stdout"] for s in fake.state.apps["web"].secrets.values())


def test_ps_lists_processes_sorted(client: FlyClient) -> None:
    ps = client.call(
        "fly_list_machine_processes",
        {"app_name": "web", "machine_id": WEB_1, "sort_by": "rss", "order": "desc"},
    )
    assert [p["rss"] for p in ps] == sorted((p["rss"] for p in ps), reverse=True)
    assert ps[0]["command"] == "bin/server"


def test_events_are_newest_first_and_limited(client: FlyClient) -> None:
    events = client.call(
        "fly_list_machine_events", {"app_name": "web", "machine_id": WEB_3, "limit": 2}
    )
    assert [e["type"] for e in events] == ["exit", "stop"]
    assert events[0]["timestamp"] > events[1]["timestamp"]


def test_mounting_a_volume_follows_fly_rules(client: FlyClient) -> None:
    from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD

    taken = {"app_name": "web", "image": "x:1", "volume_id": VOL_DATA, "mount_path": "/d"}
    with pytest.raises(BadRequestError, match="already attached"):
        client.call("fly_create_machine", taken)
    elsewhere = taken | {"volume_id": VOL_DATA_OLD, "region": "ams"}
    with pytest.raises(BadRequestError, match="in its own region"):
        client.call("fly_create_machine", elsewhere)
    placed = client.call("fly_create_machine", taken | {"volume_id": VOL_DATA_OLD})
    assert placed["region"] == "ord"  # the volume's region
    assert placed["config"]["mounts"][0] | {} == {
        "volume": VOL_DATA_OLD,
        "path": "/d",
        "name": "data_old",
        "size_gb": 3,
        "encrypted": True,
    }
