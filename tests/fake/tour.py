"""One flow through all 31 endpoints, written once and driven by the sync and async clients.

The tour is a generator: it yields ``(endpoint name, arguments)`` and receives the
parsed result, or the :class:`FlyAPIError` the call raised, then asserts on it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Generator
from typing import Any

from fly_tools.client import AsyncFlyClient, ConflictError, FlyAPIError, FlyClient, NotFoundError
from fly_tools.testing.world import WEB_1

Step = tuple[str, dict[str, Any]]
Tour = Generator[Step, Any, None]


def every_endpoint() -> Tour:
    """Create an app, a volume and a machine, work them through every endpoint, delete all."""
    yield from _apps()
    machine, volume = yield from _create()
    m = {"app_name": "api", "machine_id": machine["id"]}
    yield from _inspect(m, volume)
    yield from _lease_and_update(m, machine, volume)
    yield from _cycle(m)
    yield from _history_secrets_tokens(m)
    yield from _teardown(m, volume)


def _apps() -> Tour:
    apps = yield "fly_list_apps", {"org_slug": "acme"}
    assert {app["name"] for app in apps["apps"]} == {"web", "worker"}
    web = yield "fly_get_app", {"app_name": "web"}
    assert web["machine_count"] == 3
    assert web["organization"]["slug"] == "acme"
    created = yield "fly_create_app", {"app_name": "api", "org_slug": "acme"}
    assert created["id"]
    assert isinstance(created["created_at"], int)


def _create() -> Generator[Step, Any, tuple[dict[str, Any], dict[str, Any]]]:
    app = {"app_name": "api"}
    volume = yield "fly_create_volume", app | {"name": "data", "region": "ams", "size_gb": 2}
    assert (volume["size_gb"], volume["region"], volume["state"]) == (2, "ams", "created")
    spec = {"image": "nginx:1.27", "internal_port": 8080, "volume_id": volume["id"]}
    machine = yield "fly_create_machine", app | spec | {"mount_path": "/data", "region": "ams"}
    assert machine["state"] == "created"
    assert machine["config"]["mounts"][0]["path"] == "/data"
    return machine, volume


def _inspect(m: dict[str, Any], volume: dict[str, Any]) -> Tour:
    waited = yield "fly_wait_machine", m | {"state": "started", "timeout": 30}
    assert waited["ok"]
    assert waited["state"] == "started"
    listed = yield "fly_list_machines", {"app_name": "api"}
    assert [x["id"] for x in listed] == [m["machine_id"]]
    got = yield "fly_get_machine", m
    assert got["state"] == "started"
    volumes = yield "fly_list_volumes", {"app_name": "api"}
    assert volumes[0]["attached_machine_id"] == m["machine_id"]
    same = yield "fly_get_volume", {"app_name": "api", "volume_id": volume["id"]}
    assert same["id"] == volume["id"]
    extended = yield (
        "fly_extend_volume",
        {"app_name": "api", "volume_id": volume["id"], "size_gb": 5},
    )
    assert extended["volume"]["size_gb"] == 5
    assert extended["needs_restart"] is True
    processes = yield "fly_list_machine_processes", m
    assert processes[0]["pid"] == 1
    assert any(s["address"].endswith(":8080") for p in processes for s in p["listen_sockets"])
    ran = yield "fly_exec_machine", m | {"command": ["ls", "/data"]}
    assert (ran["exit_code"], ran["stdout"]) == (0, "lost+found\n")
    yield "fly_signal_machine", m | {"signal": "SIGHUP"}


def _lease_and_update(m: dict[str, Any], machine: dict[str, Any], volume: dict[str, Any]) -> Tour:
    lease = yield "fly_acquire_lease", m | {"ttl": 60, "description": "tour"}
    held = yield "fly_get_lease", m
    assert held["nonce"] == lease["nonce"]
    assert held["description"] == "tour"
    refused = yield "fly_restart_machine", m
    assert isinstance(refused, ConflictError)
    assert "leased" in refused.message
    nonce = {"lease_nonce": lease["nonce"]}
    updated = yield "fly_update_machine", m | nonce | {"memory_mb": 512}
    assert updated["config"]["guest"]["memory_mb"] == 512
    assert updated["config"]["mounts"][0]["volume"] == volume["id"]
    versions = yield "fly_list_machine_versions", m
    assert [v["version"] for v in versions] == [updated["instance_id"], machine["instance_id"]]
    yield "fly_release_lease", m | nonce


def _history_secrets_tokens(m: dict[str, Any]) -> Tour:
    events = yield "fly_list_machine_events", m | {"limit": 50}
    kinds = {event["type"] for event in events}
    assert {"launch", "start", "signal", "update", "restart", "suspend", "stop", "exit"} <= kinds
    app = {"app_name": "api"}
    secret = yield "fly_set_secret", app | {"secret_name": "API_KEY", "value": "tour-value"}
    assert secret["version"] == 1
    assert "value" not in secret
    secrets = yield "fly_list_secrets", app
    assert [s["name"] for s in secrets["secrets"]] == ["API_KEY"]
    removed = yield "fly_delete_secret", app | {"secret_name": "API_KEY"}
    assert removed["version"] == 2
    jwt = yield "fly_request_oidc_token", {"aud": "sts.amazonaws.com"}
    claims = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    assert claims["aud"] == "sts.amazonaws.com"
    assert claims["iss"].endswith("/acme")


def _teardown(m: dict[str, Any], volume: dict[str, Any]) -> Tour:
    yield "fly_delete_machine", m
    gone = yield "fly_delete_volume", {"app_name": "api", "volume_id": volume["id"]}
    assert gone["state"] == "scheduling_destroy"
    listed = yield "fly_list_volumes", {"app_name": "api"}
    assert [(v["id"], v["state"]) for v in listed] == [(volume["id"], "scheduling_destroy")]
    yield "fly_delete_app", {"app_name": "api"}
    missing = yield "fly_get_app", {"app_name": "api"}
    assert isinstance(missing, NotFoundError)


def _cycle(m: dict[str, Any]) -> Tour:
    """Restart, suspend, resume and stop, waiting for each state."""
    yield "fly_wait_machine", m | {"state": "started"}
    yield "fly_restart_machine", m | {"signal": "SIGTERM"}
    yield "fly_wait_machine", m | {"state": "started"}
    yield "fly_suspend_machine", m
    yield "fly_wait_machine", m | {"state": "suspended"}
    resumed = yield "fly_start_machine", m
    assert resumed["previous_state"] == "suspended"
    yield "fly_wait_machine", m | {"state": "started"}
    yield "fly_stop_machine", m | {"timeout": "10s"}
    stopped = yield "fly_wait_machine", m | {"state": "stopped"}
    assert stopped["state"] == "stopped"


def demo_reads() -> Tour:
    """A short read-only tour, for scopes that cannot write."""
    machines = yield "fly_list_machines", {"app_name": "web"}
    assert len(machines) == 3
    machine = yield "fly_get_machine", {"app_name": "web", "machine_id": WEB_1}
    assert machine["name"] == "web-1"


def drive(client: FlyClient, tour: Tour) -> None:
    """Run ``tour`` with a blocking client."""
    result: Any = None
    while True:
        try:
            name, args = tour.send(result)
        except StopIteration:
            return
        try:
            result = client.call(name, args)
        except FlyAPIError as error:
            result = error


async def drive_async(client: AsyncFlyClient, tour: Tour) -> None:
    """Run ``tour`` with an async client."""
    result: Any = None
    while True:
        try:
            name, args = tour.send(result)
        except StopIteration:
            return
        try:
            result = await client.call(name, args)
        except FlyAPIError as error:
            result = error
