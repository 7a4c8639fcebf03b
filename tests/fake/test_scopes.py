"""Tokens and scopes: 401 without a known token, 403 outside the scope, 404 outside the reach."""

from __future__ import annotations

import httpx
import pytest

from fly_tools import ENDPOINTS, SCOPES, Endpoint
from fly_tools.client import ForbiddenError, NotFoundError
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, WEB_1, WORKER_1
from tests.fake.conftest import raw_client
from tests.fake.tour import demo_reads, drive

PATH_VALUES = {
    "app_name": "web",
    "machine_id": WEB_1,
    "volume_id": VOL_DATA,
    "secret_name": "X",
    "org_slug": "acme",
    "hostname": "www.example.com",
    "ip": "137.66.1.2",
    "key": "role",
}


def request(fake: FakeFly, token: str | None, endpoint: Endpoint, **values: str) -> httpx.Response:
    path = endpoint.render_path(PATH_VALUES | values)
    with raw_client(fake, token) as client:
        return client.request(endpoint.method, path, params={"org_slug": "acme"})


@pytest.mark.parametrize("scope", SCOPES)
def test_every_endpoint_outside_a_scope_answers_403(fake: FakeFly, scope: str) -> None:
    refused = [e for e in ENDPOINTS.values() if scope not in e.scopes]
    for endpoint in refused:
        response = request(fake, fake.tokens[scope], endpoint)
        assert response.status_code == 403, endpoint.name
    assert fake.state.apps["web"].machines[WEB_1].state == "started"  # nothing happened


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("readonly", "token is read-only"),
        ("machine-exec", "token can only run exec"),
        ("deploy", "needs an org token"),
    ],
)
def test_403_says_what_the_token_can_do(fake: FakeFly, scope: str, message: str) -> None:
    endpoint = ENDPOINTS["fly_create_app" if scope == "deploy" else "fly_delete_machine"]
    assert message in request(fake, fake.tokens[scope], endpoint).json()["error"]


def test_every_endpoint_needs_a_known_token(fake: FakeFly) -> None:
    for endpoint in ENDPOINTS.values():
        assert request(fake, None, endpoint).status_code == 401, endpoint.name
        assert request(fake, "fm2_unknown", endpoint).status_code == 401, endpoint.name


def test_missing_token_message_says_how_to_send_one(fake: FakeFly) -> None:
    with raw_client(fake, None) as client:
        assert "Authorization: Bearer" in client.get("/apps/web").json()["error"]


@pytest.mark.parametrize("scheme", ["Bearer", "FlyV1", "bearer"])
def test_bearer_and_flyv1_headers_are_accepted(fake: FakeFly, scheme: str) -> None:
    with raw_client(fake, fake.tokens["org"], scheme) as client:
        assert client.get("/apps/web").status_code == 200


def test_flyv1_with_several_macaroons_finds_the_known_one(fake: FakeFly) -> None:
    header = f"FlyV1 fm2_other,{fake.tokens['readonly']}"
    with httpx.Client(base_url="https://api.machines.dev/v1", transport=fake.transport()) as c:
        assert c.get("/apps/web", headers={"Authorization": header}).status_code == 200


def test_a_deploy_token_reaches_only_its_app(fake: FakeFly) -> None:
    client = fake.client(scope="deploy")
    drive(client, demo_reads())
    with pytest.raises(NotFoundError) as worker:
        client.call("fly_get_machine", {"app_name": "worker", "machine_id": WORKER_1})
    with pytest.raises(NotFoundError) as missing:
        client.call("fly_get_app", {"app_name": "no-such-app"})
    # An unreachable app and a missing one get the same answer.
    assert worker.value.message == "app 'worker' not found, or the token's scope cannot reach it"
    assert missing.value.message == worker.value.message.replace("worker", "no-such-app")


def test_a_deploy_token_cannot_list_or_create_apps(fake: FakeFly) -> None:
    client = fake.client(scope="deploy")
    with pytest.raises(ForbiddenError):
        client.call("fly_list_apps", {"org_slug": "acme"})
    with pytest.raises(ForbiddenError):
        client.call("fly_create_app", {"app_name": "new", "org_slug": "acme"})


def test_another_orgs_token_sees_nothing_of_acme(fake: FakeFly) -> None:
    other = fake.client(token=fake.issue_token("org", org="globex"))
    with pytest.raises(ForbiddenError) as elsewhere:  # Fly's 403: it exists, out of reach
        other.call("fly_get_app", {"app_name": "web"})
    assert "organization this token cannot reach" in str(elsewhere.value)
    with pytest.raises(NotFoundError):
        other.call("fly_get_app", {"app_name": "no-such-app"})
    with pytest.raises(NotFoundError, match="organization 'acme'"):
        other.call("fly_list_apps", {"org_slug": "acme"})
    other.call("fly_create_app", {"app_name": "globex-site", "org_slug": "personal"})
    apps = other.call("fly_list_apps", {"org_slug": "globex"})["apps"]
    assert [a["name"] for a in apps] == ["globex-site"]
    assert fake.client().call("fly_list_apps", {"org_slug": "acme"})["total_apps"] == 2


def test_readonly_reads_everything_in_its_org(fake: FakeFly) -> None:
    client = fake.client(scope="readonly")
    drive(client, demo_reads())
    assert client.call("fly_list_apps", {"org_slug": "acme"})["total_apps"] == 2


def test_machine_exec_token_runs_exec_only(fake: FakeFly) -> None:
    client = fake.client(scope="machine-exec")
    ran = client.call(
        "fly_exec_machine", {"app_name": "web", "machine_id": WEB_1, "command": ["hostname"]}
    )
    assert ran["stdout"] == WEB_1 + "\n"
    with pytest.raises(ForbiddenError, match="only run exec"):
        client.call("fly_get_machine", {"app_name": "web", "machine_id": WEB_1})


def test_an_app_bound_exec_token_reaches_one_app(fake: FakeFly) -> None:
    client = fake.client(scope="machine-exec", app="worker")
    with pytest.raises(NotFoundError):
        client.call("fly_exec_machine", {"app_name": "web", "machine_id": WEB_1, "command": ["ls"]})


def test_a_deploy_token_needs_an_app() -> None:
    with pytest.raises(ValueError, match="bound to one app"):
        FakeFly().issue_token("deploy")
    with pytest.raises(ValueError, match="unknown token scope"):
        FakeFly().issue_token("admin")
