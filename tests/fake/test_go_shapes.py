"""The fake answers and accepts what Fly's Go server and flyctl do, where the spec differs.

Each test names the fly-go, flyctl or docs line it follows (ENDPOINTS.md, "Go-shaped
answers"). Every answer is still checked against the spec (conftest).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fly_tools import Approve, FlyToolkit
from fly_tools.testing import FakeFly
from fly_tools.testing.state import Shapes
from tests.fake.conftest import raw_client


@pytest.fixture
def http_org() -> Iterator[httpx.Client]:
    """Raw requests with the org token on a fresh demo world."""
    fake = FakeFly.demo()
    with raw_client(fake, fake.tokens["org"]) as client:
        yield client


# flyctl internal/command/deploy/deploy_first.go:44-119 (provisionIpsOnFirstDeploy): each
# AssignIP leaves region and network at "" and fly-go's AssignIPRequest has no omitempty
# (superfly/fly-go flaps/flaps_ip_assignments.go:28-34), so all five keys are sent.
FIRST_DEPLOY = {
    "shared": ["v6", "shared_v4"],
    "dedicated": ["v4", "v6"],
    "private": ["private_v6"],
}


def _assign_body(ip_type: str) -> dict[str, Any]:
    return {"type": ip_type, "region": "", "org_slug": "acme", "network": "", "service_name": ""}


@pytest.mark.parametrize("ip_type", sorted(FIRST_DEPLOY))
def test_flyctl_first_deploy_ip_provisioning_works(ip_type: str) -> None:
    fake = FakeFly(app_ready_delay=0)
    with raw_client(fake, fake.tokens["org"], scheme="FlyV1") as http:
        assert http.post("/apps", json={"app_name": "first", "org_slug": "acme"}).status_code == 201
        assert http.get("/apps/first/ip_assignments").json()["ips"] == []
        for kind in FIRST_DEPLOY[ip_type]:
            answer = http.post("/apps/first/ip_assignments", json=_assign_body(kind))
            assert answer.status_code == 200, answer.text
        listed = http.get("/apps/first/ip_assignments").json()["ips"]
    assert len(listed) == len(FIRST_DEPLOY[ip_type])
    assert all("service_name" not in ip or ip["service_name"] for ip in listed)
    assert [r.status for r in fake.requests if r.method == "POST"][1:] == [200] * len(listed)


def test_an_empty_string_is_unset_but_a_bad_value_is_still_refused() -> None:
    fake = FakeFly.demo()
    with raw_client(fake, fake.tokens["org"]) as http:
        bad_region = http.post(
            "/apps/web/ip_assignments", json=_assign_body("v6") | {"region": "x"}
        )
        other_org = http.post(
            "/apps/web/ip_assignments", json=_assign_body("v6") | {"org_slug": "other"}
        )
        network_on_public = http.post(
            "/apps/web/ip_assignments", json=_assign_body("v6") | {"network": "n1"}
        )
    assert (bad_region.status_code, other_org.status_code) == (400, 400)
    assert network_on_public.status_code == 400


# ---------------------------------------------------------------- bytes


SHAPES = pytest.mark.parametrize("shapes", ["go", "spec"])


@SHAPES
def test_bytes_come_as_go_or_spec_writes_them_and_the_client_reads_both(shapes: Shapes) -> None:
    # superfly/fly-go secrets_types.go:74-93: ciphertext, plaintext and signature are []byte,
    # which Go's encoder writes as base64 text; the spec types them as integer arrays.
    fake = FakeFly.demo(shapes=shapes)
    box = {"app_name": "web", "secret_name": "box"}
    with raw_client(fake, fake.tokens["org"]) as http:
        http.post("/apps/web/secretkeys/box/generate", json={"type": "nacl_secretbox"})
        raw = http.post("/apps/web/secretkeys/box/encrypt", json={"plaintext": "aGVsbG8="})
    wire = raw.json()["ciphertext"]
    assert isinstance(wire, str if shapes == "go" else list)
    with fake.client() as client:
        sealed = client.call("fly_encrypt_with_secret_key", box | {"plaintext": "hello"})
        opened = client.call(
            "fly_decrypt_with_secret_key", box | {"ciphertext": sealed["ciphertext"]}
        )
    assert isinstance(sealed["ciphertext"], list)
    assert bytes(opened["plaintext"]) == b"hello"


@SHAPES
def test_decrypt_shows_the_plaintext_decoded_and_labelled(shapes: Shapes) -> None:
    fake = FakeFly.demo(shapes=shapes)
    toolkit = FlyToolkit(
        client=fake.client(),
        scope="org",
        groups=["secretkeys"],
        check_scope=False,
        confirm=lambda request: Approve(by="alice"),
    )
    box = {"app_name": "web", "secret_name": "box"}
    toolkit.call("fly_generate_secret_key", box | {"type": "nacl_secretbox"})
    sealed = fake.client().call("fly_encrypt_with_secret_key", box | {"plaintext": "hello"})
    ciphertext = base64.b64encode(bytes(sealed["ciphertext"])).decode()
    shown = toolkit.call("fly_decrypt_with_secret_key", box | {"ciphertext": ciphertext})
    assert 'plaintext="hello" (base64 aGVsbG8=)' in str(shown)
    assert "plaintext=aGVsbG8=" not in str(shown)


# ---------------------------------------------------------------- regions and paths


def test_geo_regions_are_fly_go_s(http_org: httpx.Client) -> None:
    # superfly/fly-go types.go:586-594 (GeoRegion): africa, asia_pacific, europe,
    # north_america, south_america.
    rows = {r["code"]: r["geo_region"] for r in http_org.get("/platform/regions").json()["regions"]}
    assert (rows["ams"], rows["ord"], rows["gru"], rows["nrt"], rows["jnb"]) == (
        "europe",
        "north_america",
        "south_america",
        "asia_pacific",
        "africa",
    )
    assert set(rows.values()) <= {
        "africa",
        "asia_pacific",
        "europe",
        "north_america",
        "south_america",
    }
    by_alias = http_org.post("/platform/placements", json={"org_slug": "acme", "region": "eu"})
    by_name = http_org.post("/platform/placements", json={"org_slug": "acme", "region": "europe"})
    assert by_alias.json() == by_name.json()
    assert {r["region"] for r in by_name.json()["regions"]} == {
        "ams",
        "arn",
        "cdg",
        "fra",
        "lhr",
        "mad",
    }


@pytest.mark.parametrize("use_async", [False, True])
def test_an_ipv6_release_sends_the_colons_raw_as_fly_go_does(use_async: bool) -> None:
    # superfly/fly-go flaps/flaps_ip_assignments.go:68: fmt.Sprintf("/%s", ip), unescaped.
    fake = FakeFly.demo()
    web = {"app_name": "web"}
    address = fake.client().call("fly_assign_ip", web | {"type": "v6"})["ip"]
    if use_async:
        asyncio.run(_release_async(fake, web | {"ip": address}))
    else:
        with fake.client() as client:
            client.call("fly_release_ip", web | {"ip": address})
    last = fake.requests[-1]
    assert (last.method, last.path, last.status) == (
        "DELETE",
        f"/v1/apps/web/ip_assignments/{address}",
        204,
    )
    assert ":" in address
    assert "%3A" not in last.path.upper()


async def _release_async(fake: FakeFly, args: dict[str, Any]) -> None:
    async with fake.async_client() as client:
        await client.call("fly_release_ip", args)


@SHAPES
def test_an_unattached_org_volume_says_null_in_go_and_nothing_in_the_spec(shapes: Shapes) -> None:
    # superfly/fly-go volume_types.go:16-17: *string fields without omitempty.
    fake = FakeFly.demo(shapes=shapes)
    with raw_client(fake, fake.tokens["org"]) as http:
        volumes = http.get("/orgs/acme/volumes").json()["volumes"]
    loose = [v for v in volumes if not v.get("attached_machine_id")]
    assert loose
    for volume in loose:
        if shapes == "go":
            assert volume["attached_machine_id"] is None
            assert volume["attached_alloc_id"] is None
        else:
            assert "attached_machine_id" not in volume
    with fake.client() as client:
        listed = client.call("fly_list_org_volumes", {"org_slug": "acme"})
    assert len(listed["volumes"]) == len(volumes)
