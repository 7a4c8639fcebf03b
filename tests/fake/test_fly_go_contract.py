"""The fake takes what Fly's own Go client sends, and the client survives Fly's quirks on it.

Request forms are fly-go's (``flaps``): query forms (``?kill=``, ``?ttl=``, ``?wait=true``,
repeated ``state``), bodies with every field and ``null`` where unset (``fly volumes
create``/``fork``), integer signals, the deprecated ``cmd`` string, and both
``Authorization`` schemes. Every answer is checked against the spec (conftest).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fly_tools.client.core import NOTE_KEY
from fly_tools.client.tokens import scope_from_current_token
from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.state import APP_READY_DELAY
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1, WEB_2, WEB_3
from tests.fake.conftest import raw_client

M2 = f"/apps/web/machines/{WEB_2}"
M3 = f"/apps/web/machines/{WEB_3}"
# `fly volumes create` / `fork`: fly-go's CreateVolumeRequest, pointers without omitempty.
VOLUME_BODY: dict[str, Any] = {
    "name": "data2",
    "region": "ord",
    "size_gb": None,
    "encrypted": None,
    "fstype": None,
    "snapshot_id": None,
    "snapshot_retention": None,
    "source_volume_id": None,
    "require_unique_zone": None,
    "unique_zone_app_wide": None,
    "compute": None,
    "compute_image": "",
    "auto_backup_enabled": None,
}


def fly_go(fake: FakeFly, scope: str = "org") -> httpx.Client:
    """Requests as fly-go sends them: a macaroon token in ``FlyV1``."""
    return raw_client(fake, fake.tokens[scope], scheme="FlyV1")


FLY_GO_FORMS: list[tuple[str, str, Any, int]] = [
    (
        "POST",
        "/apps?wait=true",
        {"name": "go-app", "org_slug": "acme", "network": "", "app_role_id": ""},
        201,
    ),
    ("GET", "/apps?org_slug=acme", None, 200),
    ("GET", "/apps/web/machines?include_deleted=true&region=ord&summary=true", None, 200),
    ("POST", "/apps/web/volumes", VOLUME_BODY, 200),
    (
        "POST",
        "/apps/web/volumes",
        VOLUME_BODY | {"name": "fork", "source_volume_id": VOL_DATA_OLD, "region": None},
        200,
    ),
    ("PUT", f"/apps/web/volumes/{VOL_DATA}/extend", {"size_gb": 20}, 200),
    ("GET", "/apps/web/secrets?version=1", None, 200),
    ("POST", f"{M2}/lease?ttl=30", None, 201),
    ("GET", f"{M2}/wait?state=started&state=stopped&timeout=60", None, 200),
    ("POST", f"{M2}/signal", {"signal": 9}, 200),
    ("POST", f"/apps/web/machines/{WEB_1}/exec", {"cmd": "hostname", "timeout": 5}, 200),
    (
        "POST",
        f"/apps/web/machines/{WEB_1}/restart?force_stop=false&timeout=10s&signal=SIGTERM",
        None,
        200,
    ),
    (
        "POST",
        "/apps/web/machines",
        {
            "config": {
                "image": "nginx:1.27",
                "future_field": {"a": 1},
                "services": [{"internal_port": 80}],
            },
            "region": "ord",
        },
        200,
    ),
    ("DELETE", f"{M3}?kill=true", None, 200),
    ("GET", "/tokens/current", None, 200),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), FLY_GO_FORMS)
def test_fly_go_request_forms_are_accepted(
    fake: FakeFly, method: str, path: str, body: Any, expected: int
) -> None:
    with fly_go(fake) as http:
        response = http.request(method, path, json=body)
    assert response.status_code == expected, response.text
    assert fake.requests[-1].status == expected


def test_a_fork_sent_with_nulls_takes_the_source_s_region_and_size(fake: FakeFly) -> None:
    body = VOLUME_BODY | {"name": "fork", "region": None, "source_volume_id": VOL_DATA}
    with fly_go(fake) as http:
        forked = http.post("/apps/web/volumes", json=body).json()
    assert (forked["region"], forked["size_gb"], forked["encrypted"]) == ("ord", 10, True)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (VOLUME_BODY | {"size_gb": 501}, "size_gb must be between 1 and 500"),
        (VOLUME_BODY | {"name": "Bad Name"}, "name"),
        (VOLUME_BODY | {"snapshot_retention": 90}, "snapshot_retention"),
        (VOLUME_BODY | {"region": "mars"}, "region"),
    ],
)
def test_what_fly_validates_is_still_refused(fake: FakeFly, body: Any, problem: str) -> None:
    with fly_go(fake) as http:
        response = http.post("/apps/web/volumes", json=body)
    assert response.status_code == 400
    assert problem in response.json()["error"]


def test_a_service_without_protocol_is_read_as_tcp(fake: FakeFly) -> None:
    config = {"image": "nginx:1.27", "services": [{"internal_port": 80, "ports": [{"port": 80}]}]}
    with fly_go(fake) as http:
        created = http.post("/apps/web/machines", json={"config": config})
    assert created.json()["config"]["services"][0]["protocol"] == "tcp"


# ---------------------------------------------------------------- client against the fake


def test_create_app_returns_when_the_new_app_is_usable(fake: FakeFly) -> None:
    client = fake.client()
    start = fake.clock.now()
    client.call("fly_create_app", {"app_name": "fresh", "org_slug": "acme"})
    assert fake.clock.now() - start >= APP_READY_DELAY  # it waited for Fly to serve it
    reads = [r.status for r in fake.requests if r.method == "GET"]
    assert (reads[0], reads[-1]) == (404, 200)
    machine = client.call("fly_create_machine", {"app_name": "fresh", "image": "nginx:1.27"})
    assert fake.requests[-1].status == 200
    assert machine["state"] == "created"


@pytest.mark.parametrize(
    ("tool", "args", "match"),
    [
        ("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD}, "fly_delete_volume"),
        ("fly_delete_app", {"app_name": "worker"}, "fly_delete_app"),
        (
            "fly_delete_secret",
            {"app_name": "web", "secret_name": "SESSION_SECRET"},
            "fly_delete_secret",
        ),
        (
            "fly_extend_volume",
            {"app_name": "web", "volume_id": VOL_DATA, "size_gb": 20},
            "fly_extend_volume",
        ),
    ],
)
def test_a_lost_reply_then_a_retry_reports_the_first_attempt_s_success(
    fake: FakeFly, tool: str, args: dict[str, Any], match: str
) -> None:
    fake.inject(Fault.reset(before=False), match=match)
    got = fake.client().call(tool, args)
    assert "the first attempt succeeded but its reply was lost" in got[NOTE_KEY]
    statuses = [r.status for r in fake.requests]
    assert statuses[0] is None  # handled by the fake, reply dropped
    assert statuses[1] in (400, 404)  # the retry found the work done


@pytest.mark.parametrize(
    ("scope", "apps"), [("org", ()), ("deploy", ("web",)), ("readonly", ()), ("machine-exec", ())]
)
def test_the_token_endpoints_tell_each_scope(fake: FakeFly, scope: str, apps: tuple[str]) -> None:
    client = fake.client(scope=scope)
    answer = client.current_token()
    assert answer["tokens"][0]["org_slug"] == "acme"
    authorized = client.authorize({"org_slug": "acme"})
    assert scope_from_current_token(answer, authorized) == (scope, apps)
    assert [r.path for r in fake.requests] == ["/v1/tokens/current", "/v1/tokens/authorize"]


def test_authorize_refuses_access_the_token_does_not_grant(fake: FakeFly) -> None:
    from fly_tools.client import ForbiddenError

    with pytest.raises(ForbiddenError):
        fake.client(scope="readonly").authorize({"action": 2, "org_slug": "acme"})
    granted = fake.client().authorize({"action": "rw", "org_slug": "acme", "app_name": "web"})[
        "access"
    ]
    assert granted["appid"] == fake.state.apps["web"].internal_numeric_id
    assert fake.client().authorize({"action": "w", "org_slug": "acme"})["access"]["action"] == 2
