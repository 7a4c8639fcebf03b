"""The wire: routes, third-party client forms (fly-go, flyctl, docs), bad requests."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from fly_tools.testing import FakeFly
from fly_tools.testing.state import APP_READY_DELAY
from fly_tools.testing.world import WEB_1, WEB_2, WEB_3

M1 = f"/apps/web/machines/{WEB_1}"


def test_unknown_paths_are_404_in_flys_error_shape(http: httpx.Client) -> None:
    response = http.get("/apps/web/dns_records")
    assert response.status_code == 404
    assert "no such endpoint" in response.json()["error"]
    assert http.get("https://api.machines.dev/apps/web").status_code == 404  # no /v1


def test_a_wrong_method_is_405_with_allow(http: httpx.Client) -> None:
    response = http.put(M1)
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, POST"


def test_an_encoded_slash_cannot_change_the_route(http: httpx.Client) -> None:
    response = http.get("/apps/web%2Fmachines")
    assert response.status_code == 404
    assert "web/machines" in response.json()["error"]


def test_delete_with_kill_like_fly_go(fake: FakeFly, http: httpx.Client) -> None:
    assert http.delete(M1, params={"kill": "true"}).json() == {"ok": True}
    assert fake.state.apps["web"].machines[WEB_1].state == "destroying"


def test_create_app_with_wait_answers_an_app_like_fly_go_expects(http: httpx.Client) -> None:
    response = http.post("/apps", params={"wait": "true"}, json={"name": "api", "org_slug": "acme"})
    body = response.json()
    assert response.status_code == 201
    assert body["name"] == "api"
    assert body["organization"]["slug"] == "acme"
    assert isinstance(body["created_at"], int)


def test_create_app_accepts_the_docs_app_name_field(fake: FakeFly, http: httpx.Client) -> None:
    assert http.post("/apps", json={"app_name": "docs-app", "org_slug": "acme"}).status_code == 201
    assert http.get("/apps/docs-app").status_code == 404  # not served yet, as on Fly
    fake.clock.advance(APP_READY_DELAY)
    assert http.get("/apps/docs-app").json()["status"] == "pending"


@pytest.mark.parametrize(
    ("body", "status", "category"),
    [
        ({"name": "web", "org_slug": "acme"}, 422, "name_taken"),
        ({"name": "Bad_Name", "org_slug": "acme"}, 400, None),
        ({"org_slug": "acme"}, 400, None),
    ],
)
def test_create_app_refusals(
    http: httpx.Client, body: dict[str, str], status: int, category: str | None
) -> None:
    response = http.post("/apps", json=body)
    assert response.status_code == status
    assert response.json().get("status") == category


def test_exec_accepts_the_deprecated_cmd_string(http: httpx.Client) -> None:
    body = http.post(f"{M1}/exec", json={"cmd": "sh -c 'echo hello world'"}).json()
    assert body["stdout"] == "hello world\n"
    stdin = http.post(f"{M1}/exec", json={"command": ["cat"], "stdin": "piped"}).json()
    assert stdin["stdout"] == "piped"
    assert http.post(f"{M1}/exec", json={}).status_code == 400


@pytest.mark.parametrize(("sent", "number"), [(9, 9), ("9", 9), ("term", 15), ("SIGTERM", 15)])
def test_signals_by_number_or_short_name(
    fake: FakeFly, http: httpx.Client, sent: object, number: int
) -> None:
    assert http.post(f"/apps/web/machines/{WEB_2}/signal", json={"signal": sent}).status_code == 200
    fake.clock.advance(1)
    events = http.get(f"/apps/web/machines/{WEB_2}/events").json()
    signalled = next(e for e in events if e["type"] == "signal")
    assert "request" not in signalled  # as in Fly's docs: only exit events carry one
    exited = next(e for e in events if e["type"] == "exit")["request"]
    assert (exited["exit_event"]["signal"], exited["exit_event"]["exit_code"]) == (
        number,
        128 + number,
    )


def test_an_unknown_signal_is_a_400(http: httpx.Client) -> None:
    response = http.post(f"{M1}/signal", json={"signal": "SIGWINCH"})
    assert response.status_code == 400
    assert "SIGWINCH" in response.json()["error"]
    stop = http.post(f"{M1}/stop", json={"signal": "SIGABRT"})  # not one of stop's seven
    assert stop.status_code == 400


def test_restart_with_fly_gos_query_parameters(fake: FakeFly, http: httpx.Client) -> None:
    response = http.post(
        f"{M1}/restart", params={"force_stop": "true", "timeout": "10s", "signal": "SIGTERM"}
    )
    assert response.status_code == 200
    assert fake.state.apps["web"].machines[WEB_1].state == "restarting"


def test_stop_with_no_body_or_an_empty_one(http: httpx.Client) -> None:
    assert http.post(f"{M1}/stop").status_code == 200
    assert http.post(f"/apps/web/machines/{WEB_2}/stop", content=b"{}").status_code == 200


@pytest.mark.parametrize("query", ["version=1", "min_version=1", "show_secrets=true"])
def test_secret_listing_accepts_either_version_name(http: httpx.Client, query: str) -> None:
    secrets = http.get(f"/apps/web/secrets?{query}").json()["secrets"]
    assert [s["name"] for s in secrets] == ["DATABASE_URL", "SESSION_SECRET"]
    assert all("value" not in s for s in secrets)


def test_a_body_that_is_not_json_or_not_an_object(http: httpx.Client) -> None:
    bad = http.post("/apps/web/machines", content=b"{nope")
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("invalid JSON body")
    array = http.post(f"{M1}/stop", json=[])
    assert "cannot unmarshal array into Go value" in array.json()["error"]


def test_machine_config_is_validated_with_a_useful_message(http: httpx.Client) -> None:
    response = http.post(
        "/apps/web/machines", json={"config": {"image": "x:1", "guest": {"memory_mb": 300}}}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "config.guest: memory_mb must be a multiple of 256; got 300"
    # Fly's decoder ignores keys it does not know (and keeps none of them), as Go's does.
    unknown = http.post("/apps/web/machines", json={"config": {"image": "x:1", "imgae": "y"}})
    assert unknown.status_code == 200
    assert "imgae" not in unknown.json()["config"]


def test_machine_list_filters(http: httpx.Client) -> None:
    def names(query: str) -> list[str]:
        return [m["name"] for m in http.get(f"/apps/web/machines?{query}").json()]

    assert names("region=ord") == ["web-1", "web-3"]
    assert names("state=stopped") == ["web-3"]
    assert names("state=started,stopped&region=ams") == ["web-2"]
    assert names("metadata.fly_process_group=app") == ["web-1", "web-2", "web-3"]
    assert names("metadata.fly_process_group=worker") == []
    summary = http.get("/apps/web/machines", params={"summary": "true"}).json()[0]
    assert "config" not in summary
    assert "events" not in summary
    assert summary["state"] == "started"


def test_oidc_answers_a_jwt_as_text(fake: FakeFly) -> None:
    with httpx.Client(base_url="https://api.machines.dev/v1", transport=fake.transport()) as c:
        headers = {"Authorization": f"Bearer {fake.tokens['deploy']}"}
        response = c.post("/tokens/oidc", headers=headers, json={"aws_principal_tags": True})
    assert response.headers["content-type"].startswith("text/plain")
    claims = json.loads(base64.urlsafe_b64decode(response.text.split(".")[1] + "=="))
    assert claims["aud"] == "https://fly.io/acme"
    assert claims["app_name"] == "web"
    assert claims["https://aws.amazon.com/tags"]["principal_tags"]["app_name"] == ["web"]
    assert fake.tokens["deploy"] not in response.text


def test_delete_app_answers_202_without_a_body(fake: FakeFly, http: httpx.Client) -> None:
    response = http.delete("/apps/worker", params={"force": "true"})
    assert (response.status_code, response.content) == (202, b"")
    assert "worker" not in fake.state.apps
    assert http.get(f"/apps/web/machines/{WEB_3}").status_code == 200


def test_a_trailing_slash_is_tolerated(http: httpx.Client) -> None:
    assert http.get("/apps/web/").status_code == 200


def test_a_machine_region_must_be_a_region_code(http: httpx.Client) -> None:
    response = http.post(
        "/apps/web/machines", json={"config": {"image": "x:1"}, "region": "Chicago"}
    )
    assert response.status_code == 400
    assert "three-letter Fly region code" in response.json()["error"]


@pytest.mark.parametrize("body", [{}, {"signal": ""}])
def test_signal_is_required(http: httpx.Client, body: dict[str, str]) -> None:
    response = http.post(f"{M1}/signal", json=body)
    assert response.status_code == 400
    assert "signal" in response.json()["error"]
