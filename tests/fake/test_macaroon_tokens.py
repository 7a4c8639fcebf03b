"""The fake speaks macaroons: its tokens verify from its root key and their caveats bind.

The oracle is what reached the fake and what it did: its state and its answers.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from fly_tools import ENDPOINTS
from fly_tools.macaroons import (
    CONTROL,
    DELETE,
    FLY,
    READ,
    Action,
    Apps,
    Machines,
    Organization,
    Unknown,
    ValidityWindow,
    Volumes,
    attenuate,
    parse_header,
    permission_tokens,
)
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1, WEB_2

T0 = 1_778_155_200  # the fake clock's start, 2026-05-07T12:00:00Z


def send(fake: FakeFly, header: str, method: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=BASE_URL + "/v1", transport=fake.transport()) as client:
        return client.request(method, path, headers={"Authorization": header})


def test_ready_made_tokens_are_fly_macaroons_with_their_scope_s_caveats(fake: FakeFly) -> None:
    org_id = fake.state.orgs["acme"].internal_numeric_id
    web_id = fake.state.apps["web"].internal_numeric_id
    (org,) = permission_tokens(fake.tokens["org"])
    (readonly,) = permission_tokens(fake.tokens["readonly"])
    # A token minted once its app exists names it by numeric id (the ready-made deploy
    # token predates the demo world: its binding to "web" is kept beside the macaroon).
    (deploy,) = permission_tokens(fake.issue_token("deploy", app="web"))
    assert org.location == FLY
    assert org.caveats == (Organization(org_id, 31),)
    assert readonly.caveats == (Organization(org_id, READ),)
    assert deploy.caveats == (Organization(org_id, 31), Apps({web_id: 31}))


def test_a_volume_bound_token_deletes_that_volume_only(fake: FakeFly) -> None:
    header = attenuate(fake.tokens["org"], [Volumes({VOL_DATA_OLD: DELETE})])
    other = send(fake, header, "DELETE", f"/apps/web/volumes/{VOL_DATA}")
    assert other.status_code == 403
    assert other.json()["error"] == (f"unauthorized for volume {VOL_DATA} (only [{VOL_DATA_OLD}])")
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None
    # Reads name the volume too, with an action the caveat does not grant.
    read = send(fake, header, "GET", f"/apps/web/volumes/{VOL_DATA_OLD}")
    assert read.json()["error"] == "unauthorized for access r on volume (r not allowed)"
    # Listing names no volume: a Volumes caveat asks for one, as Fly's does.
    listed = send(fake, header, "GET", "/apps/web/volumes")
    assert "must specify volume" in listed.json()["error"]


def test_an_action_caveat_narrows_an_org_token_to_reads(fake: FakeFly) -> None:
    header = attenuate(fake.tokens["org"], [Action(READ)])
    assert send(fake, header, "GET", f"/apps/web/machines/{WEB_1}").status_code == 200
    stop = send(fake, header, "POST", f"/apps/web/machines/{WEB_1}/stop")
    assert stop.status_code == 403
    assert stop.json()["error"] == "unauthorized for access C (C not allowed)"
    assert fake.state.apps["web"].machines[WEB_1].state == "started"


def test_a_machine_bound_token_controls_that_machine_only(fake: FakeFly) -> None:
    header = attenuate(fake.tokens["org"], [Machines({WEB_2: CONTROL})])
    assert send(fake, header, "POST", f"/apps/web/machines/{WEB_1}/stop").status_code == 403
    assert fake.state.apps["web"].machines[WEB_1].state == "started"
    assert send(fake, header, "POST", f"/apps/web/machines/{WEB_2}/stop").status_code == 200


def test_a_validity_window_runs_out_on_the_fake_clock(fake: FakeFly) -> None:
    now = int(fake.clock.now())
    header = attenuate(fake.tokens["org"], [ValidityWindow(now, now + 60)])
    assert send(fake, header, "GET", "/apps/web").status_code == 200
    fake.clock.advance(61)
    late = send(fake, header, "GET", "/apps/web")
    assert late.status_code == 403
    assert "token only valid until" in late.json()["error"]


def test_a_caveat_the_fake_does_not_know_refuses_everything(fake: FakeFly) -> None:
    header = attenuate(fake.tokens["org"], [Unknown(1 << 48, b"\xa3foo")])
    answer = send(fake, header, "GET", "/apps/web")
    assert answer.status_code == 403
    assert answer.json()["error"] == "unauthorized: bad caveat (unregistered)"


def test_a_token_with_a_caveat_cut_off_does_not_verify(fake: FakeFly) -> None:
    narrowed = attenuate(fake.tokens["org"], [Action(READ)])
    ((_, macaroon),) = parse_header(narrowed)
    assert macaroon is not None
    from dataclasses import replace

    cut = replace(macaroon, caveats=macaroon.caveats[:-1])
    forged = "FlyV1 fm2_" + base64.b64encode(cut.encode()).decode()
    assert send(fake, forged, "DELETE", f"/apps/web/volumes/{VOL_DATA}").status_code == 401
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None


def test_another_fake_s_token_is_not_recognised(fake: FakeFly) -> None:
    other = FakeFly.demo()
    assert send(fake, f"FlyV1 {other.tokens['org']}", "GET", "/apps/web").status_code == 401


def test_revoking_a_token_revokes_the_tokens_narrowed_from_it(fake: FakeFly) -> None:
    token = fake.issue_token("org")
    narrowed = attenuate(token, [Action(READ)])
    fake.revoke_token(token)
    assert send(fake, narrowed, "GET", "/apps/web").status_code == 401


def test_plain_bearer_tokens_still_work_and_carry_no_caveats(fake: FakeFly) -> None:
    plain = fake.issue_token("readonly", plain=True)
    with pytest.raises(ValueError, match="Fly macaroon"):
        parse_header(plain)
    assert send(fake, f"Bearer {plain}", "GET", "/apps/web").status_code == 200
    assert send(fake, f"Bearer {plain}", "DELETE", "/apps/web").status_code == 403


def test_tokens_authorize_answers_from_the_token_s_own_caveats(fake: FakeFly) -> None:
    header = attenuate(fake.tokens["org"], [Action(READ)])
    client = fake.client(token=header)
    granted = client.authorize({"org_slug": "acme", "app_name": "web", "action": "r"})
    caveats = granted["verified_token"]["caveats"]
    assert {"type": "Action", "body": "r"} in caveats
    with pytest.raises(Exception, match="w not allowed"):
        client.authorize({"org_slug": "acme", "app_name": "web", "action": "w"})


def test_the_spec_shape_wraps_the_same_caveats() -> None:
    fake = FakeFly(shapes="spec")
    granted = fake.client(scope="readonly").authorize({"org_slug": "acme"})
    assert granted["verified_token"]["caveats"]["caveats"][0]["body"]["mask"] == "r"


@pytest.mark.parametrize("shapes", ["go", "spec"])
def test_a_narrowed_token_s_nonce_reads_in_either_form(shapes: str) -> None:
    # Go writes the nonce's []byte fields as base64 text (superfly/macaroon nonce.go);
    # the spec says integer arrays. The same bytes either way, for the same token.
    fake = FakeFly(shapes=shapes)  # type: ignore[arg-type]
    client = fake.client(token=attenuate(fake.tokens["org"], [Action(READ)]))
    granted = client.authorize({"org_slug": "acme", "app_name": "web", "action": "r"})
    nonce = granted["verified_token"]["nonce"]
    read = base64.b64decode if shapes == "go" else bytes
    kid, rnd = read(nonce["kid"]), read(nonce["rnd"])
    assert (len(kid), len(rnd), rnd[:8], nonce["proof"]) == (8, 16, kid, False)
    caveats = granted["verified_token"]["caveats"]
    listed = caveats if shapes == "go" else caveats["caveats"]
    assert {"type": "Action", "body": "r"} in listed


def test_exec_tokens_run_only_allowed_commands(fake: FakeFly) -> None:
    from fly_tools.macaroons import Command, Commands

    header = attenuate(fake.tokens["org"], [Commands((Command(("hostname",), exact=True),))])
    client = fake.client(token=header)
    args = {"app_name": "web", "machine_id": WEB_1}
    assert client.call("fly_exec_machine", args | {"command": ["hostname"]})["stdout"]
    with pytest.raises(Exception, match="unauthorized for commands"):
        client.call("fly_exec_machine", args | {"command": ["rm", "-rf", "/data"]})


def test_every_catalogue_record_names_the_access_it_asks() -> None:
    from fly_tools.catalogue.access import SOURCES

    missing = [e.name for e in ENDPOINTS.records if e.access is None]
    assert missing == []
    assert {e.access.source for e in ENDPOINTS.records if e.access} <= set(SOURCES)
    assert len(ENDPOINTS) == 75
