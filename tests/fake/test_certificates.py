"""The fake's certificates and IP assignments, over raw HTTP and the clients, spec-checked."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.client import ForbiddenError, NotFoundError
from fly_tools.testing import FakeFly
from fly_tools.testing.certificates import ACME_DELAY
from tests.fake.conftest import raw_client
from tests.fake.tour import drive, drive_async
from tests.fake.tour_certificates import FULLCHAIN, PRIVATE_KEY, certificates_tour, pem

AREA = {e.name for e in ENDPOINTS.records if e.group in ("certificates", "network")}
CERTS = "/apps/web/certificates"
IPS = "/apps/web/ip_assignments"


def test_the_tour_reaches_every_certificate_and_ip_endpoint(fake: FakeFly) -> None:
    with fake.client() as client:
        drive(client, certificates_tour())
    assert {r.endpoint for r in fake.requests} == AREA
    assert fake.state.apps["web"].certificates.by_hostname == {}
    assert fake.state.apps["web"].ip_addresses.held == {}


async def test_the_async_client_takes_the_same_tour(fake: FakeFly) -> None:
    async with fake.async_client() as client:
        await drive_async(client, certificates_tour())
    assert {r.endpoint for r in fake.requests} == AREA


# ---------------------------------------------------------------- ACME


def test_acme_certificate_is_pending_validation_then_active_on_the_fake_clock(
    fake: FakeFly, http: httpx.Client
) -> None:
    created = http.post(CERTS + "/acme", json={"hostname": "api.example.com"})
    assert created.status_code == 201
    # Fly's states: superfly/docs machines/api/certificates-resource.html.markerb:176, :109.
    assert created.json()["status"] == "pending_validation"
    assert created.json()["certificates"][0]["status"] == "pending_validation"
    fake.clock.advance(ACME_DELAY - 1)
    assert http.get(CERTS + "/api.example.com").json()["status"] == "pending_validation"
    fake.clock.advance(1)
    ready = http.get(CERTS + "/api.example.com").json()
    assert (ready["status"], ready["configured"]) == ("active", True)
    (entry,) = ready["certificates"]
    assert (entry["source"], entry["status"]) == ("fly", "active")
    assert {i["type"] for i in entry["issued"]} == {"ecdsa", "rsa"}


def test_dns_requirements_name_the_apps_addresses(http: httpx.Client) -> None:
    v4 = http.post(IPS, json={"type": "shared_v4"}).json()["ip"]
    v6 = http.post(IPS, json={"type": "v6"}).json()["ip"]
    needs = http.post(CERTS + "/acme", json={"hostname": "a.example.com"}).json()
    assert needs["dns_requirements"]["a"] == [v4]
    assert needs["dns_requirements"]["aaaa"] == [v6]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"hostname": "a.example.com"}, 422, "Hostname already exists on app"),
        ({"hostname": "localhost"}, 422, "hostname must be a DNS name"),
        ({"hostname": "a/b.example.com"}, 422, "hostname must be a DNS name"),
        ({}, 422, "hostname is required"),
        (["a.example.com"], 400, "cannot unmarshal array"),
    ],
)
def test_acme_requests_fly_refuses(
    http: httpx.Client, body: object, status: int, message: str
) -> None:
    assert http.post(CERTS + "/acme", json={"hostname": "A.Example.com"}).status_code == 201
    refused = http.post(CERTS + "/acme", json=body)
    assert refused.status_code == status
    assert message in refused.json()["error"]


def test_check_reports_dns_and_what_to_fix_while_pending(fake: FakeFly, http: httpx.Client) -> None:
    http.post(CERTS + "/acme", json={"hostname": "b.example.com"})
    pending = http.post(CERTS + "/b.example.com/check").json()
    assert pending["dns_records"]["cname"] == []
    assert "CNAME" in pending["validation_errors"][0]["remediation"]
    fake.clock.advance(ACME_DELAY)
    ready = http.post(CERTS + "/b.example.com/check").json()
    assert ready["dns_records"]["cname"] == ["web.fly.dev"]
    assert ready["validation_errors"] == []


# ---------------------------------------------------------------- custom certificates


def _upload(http: httpx.Client, **body: str) -> httpx.Response:
    sent = {"hostname": "c.example.com", "fullchain": FULLCHAIN, "private_key": PRIVATE_KEY}
    return http.post(CERTS + "/custom", json=sent | body)


def test_custom_upload_keeps_no_key_and_never_echoes_it(fake: FakeFly, http: httpx.Client) -> None:
    uploaded = _upload(http)
    assert uploaded.status_code == 201
    assert uploaded.json()["certificates"][0]["source"] == "custom"
    key_text = PRIVATE_KEY.splitlines()[1]
    assert key_text not in uploaded.text
    assert key_text not in repr(fake.state.apps["web"].certificates)
    assert key_text not in http.get(CERTS + "/c.example.com").text


def test_an_uploaded_certificate_waits_for_the_ownership_txt_record(
    fake: FakeFly, http: httpx.Client
) -> None:
    # superfly/docs machines/api/certificates-resource.html.markerb:212 and :261-267; flyctl
    # internal/command/certificates/root.go:169-181 prints the TXT record to add.
    uploaded = _upload(http).json()
    assert (uploaded["status"], uploaded["configured"]) == ("pending_ownership", False)
    [entry] = uploaded["certificates"]
    assert (entry["source"], entry["status"], entry["issued"]) == (
        "custom",
        "pending_ownership",
        [],
    )
    ownership = uploaded["dns_requirements"]["ownership"]
    assert ownership["name"] == "_fly-ownership.c.example.com"
    checked = http.post(CERTS + "/c.example.com/check").json()
    [error] = checked["validation_errors"]
    assert error["code"] == "ownership_pending"
    assert ownership["name"] in error["remediation"]
    assert ownership["app_value"] in error["remediation"]
    fake.set_txt_record(ownership["name"], "app-someone-else")
    assert http.get(CERTS + "/c.example.com").json()["status"] == "pending_ownership"
    fake.set_txt_record(ownership["name"], ownership["app_value"])
    active = http.post(CERTS + "/c.example.com/check").json()
    assert (active["status"], active["configured"], active["validation_errors"]) == (
        "active",
        True,
        [],
    )
    assert active["validation"]["ownership_txt_configured"] is True
    assert active["dns_records"]["ownership_txt"] == ownership["app_value"]
    assert active["certificates"][0]["status"] == "active"
    [summary] = http.get(CERTS).json()["certificates"]
    assert (summary["status"], summary["ownership_txt_configured"]) == ("active", True)


def test_the_org_value_proves_ownership_too(fake: FakeFly, http: httpx.Client) -> None:
    ownership = _upload(http, hostname="*.shop.example.com").json()["dns_requirements"]["ownership"]
    assert ownership["name"] == "_fly-ownership.shop.example.com"
    fake.set_txt_record(ownership["name"], ownership["org_value"])
    assert http.get(CERTS + "/*.shop.example.com").json()["status"] == "active"


def test_deleting_an_unverified_upload_warns_that_nothing_serves_https(http: httpx.Client) -> None:
    _upload(http)
    gone = http.delete(CERTS + "/c.example.com/custom").json()
    assert gone["status"] == "pending_validation"
    assert "HTTPS" in gone["warning"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"fullchain": FULLCHAIN + PRIVATE_KEY}, "fullchain holds a private key"),
        ({"fullchain": "not a certificate"}, "fullchain must be PEM"),
        ({"private_key": pem("ENCRYPTED PRIVATE KEY", b"x" * 30)}, "encrypted"),
        # What the toolkit shows tracers in place of a key: never a key for Fly.
        ({"private_key": "[redacted]"}, "private_key must be one unencrypted PEM key"),
        ({"private_key": "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----"}, "PEM"),
    ],
)
def test_custom_uploads_fly_refuses_never_quote_the_key(
    http: httpx.Client, body: dict[str, str], message: str
) -> None:
    refused = _upload(http, **body)
    assert refused.status_code == 422
    assert message in refused.json()["error"]
    assert PRIVATE_KEY.splitlines()[1] not in refused.text


def test_deleting_one_kind_of_certificate_keeps_the_other(
    fake: FakeFly, http: httpx.Client
) -> None:
    http.post(CERTS + "/acme", json={"hostname": "c.example.com"})
    _upload(http)
    fake.clock.advance(ACME_DELAY)
    custom_gone = http.delete(CERTS + "/c.example.com/custom")
    assert custom_gone.status_code == 200
    assert custom_gone.json()["status"] == "active"
    assert "warning" not in custom_gone.json()
    assert http.delete(CERTS + "/c.example.com/custom").status_code == 404
    acme_gone = http.delete(CERTS + "/c.example.com/acme").json()
    assert (acme_gone["status"], acme_gone["certificates"]) == ("pending_validation", [])
    assert http.delete(CERTS + "/c.example.com/acme").status_code == 404


def test_delete_answers_204_and_the_hostname_is_gone(http: httpx.Client) -> None:
    http.post(CERTS + "/acme", json={"hostname": "d.example.com"})
    deleted = http.delete(CERTS + "/d.example.com")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert http.get(CERTS + "/d.example.com").status_code == 404
    assert http.delete(CERTS + "/d.example.com").status_code == 404


# ---------------------------------------------------------------- listing


def test_list_filters_and_pages_with_an_opaque_cursor(http: httpx.Client) -> None:
    for name in ("a", "b", "c", "d"):
        http.post(CERTS + "/acme", json={"hostname": f"{name}.shop.example.com"})
    http.post(CERTS + "/acme", json={"hostname": "blog.example.org"})
    first = http.get(CERTS, params={"filter": "shop", "limit": 3}).json()
    assert first["total_count"] == 4
    assert [c["hostname"][0] for c in first["certificates"]] == ["a", "b", "c"]
    rest = http.get(CERTS, params={"filter": "shop", "cursor": first["next_cursor"]}).json()
    assert [c["hostname"] for c in rest["certificates"]] == ["d.shop.example.com"]
    assert "next_cursor" not in rest
    assert http.get(CERTS, params={"cursor": "%%%"}).status_code == 400


def test_unknown_app_and_hostname_are_404(http: httpx.Client) -> None:
    assert http.get("/apps/nope/certificates").status_code == 404
    assert http.get(CERTS + "/missing.example.com").status_code == 404
    assert http.post(CERTS + "/missing.example.com/check").status_code == 404


# ---------------------------------------------------------------- IP assignments


def test_each_address_type_gets_a_fly_like_address(http: httpx.Client) -> None:
    made = {kind: http.post(IPS, json={"type": kind}) for kind in ("shared_v4", "v4", "v6")}
    made["private_v6"] = http.post(IPS, json={"type": "private_v6", "network": "internal"})
    assert {r.status_code for r in made.values()} == {200}
    shown = {kind: r.json() for kind, r in made.items()}
    assert shown["shared_v4"]["shared"] is True
    assert shown["v4"]["ip"].startswith("137.66.")
    assert shown["v6"]["ip"].startswith("2a09:8280:1:")
    assert shown["private_v6"]["ip"].startswith("fdaa:")
    listed = http.get(IPS).json()["ips"]
    assert [ip["ip"] for ip in listed] == [s["ip"] for s in shown.values()]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"type": "v5"}, 400, "type must be one of"),
        ({}, 400, "type must be one of"),
        ({"type": "v4", "region": "Chicago"}, 400, "region"),
        ({"type": "v4", "network": "internal"}, 400, "only for private_v6"),
        ({"type": "v4", "org_slug": "other"}, 400, "not the organization"),
        ({"type": "shared_v4"}, 422, "already has a shared IPv4"),
    ],
)
def test_assignments_fly_refuses(
    http: httpx.Client, body: dict[str, str], status: int, message: str
) -> None:
    http.post(IPS, json={"type": "shared_v4"})
    refused = http.post(IPS, json=body)
    assert refused.status_code == status
    assert message in refused.json()["error"]
    assert len(http.get(IPS).json()["ips"]) == 1


def test_release_matches_any_spelling_of_the_address(http: httpx.Client) -> None:
    v6 = http.post(IPS, json={"type": "v6", "region": "ams"}).json()
    assert v6["region"] == "ams"
    spelled = ipaddress.ip_address(v6["ip"]).exploded.upper()
    released = http.delete(f"{IPS}/{spelled}")
    assert (released.status_code, released.content) == (204, b"")
    assert http.get(IPS).json()["ips"] == []
    assert http.delete(f"{IPS}/{v6['ip']}").status_code == 404
    assert http.delete(f"{IPS}/not-an-ip").status_code == 400


def test_scopes_reach_what_the_records_declare(fake: FakeFly) -> None:
    with fake.client(scope="readonly") as reader:
        assert reader.call("fly_list_ip_assignments", {"app_name": "web"}) == {"ips": []}
        with pytest.raises(ForbiddenError):
            reader.call("fly_assign_ip", {"app_name": "web", "type": "v6"})
    deployer = fake.client(scope="deploy", app="worker")
    with pytest.raises(NotFoundError, match="cannot reach"):
        deployer.call("fly_list_certificates", {"app_name": "web"})
    assert [r.method for r in fake.requests if r.status == 200] == ["GET"]


def test_addresses_and_certificates_go_with_their_app(fake: FakeFly) -> None:
    with raw_client(fake, fake.tokens["org"]) as http:
        http.post("/apps/worker/ip_assignments", json={"type": "v6"})
        http.post("/apps/worker/certificates/acme", json={"hostname": "w.example.com"})
        assert http.delete("/apps/worker", params={"force": "true"}).status_code in (200, 202)
        assert http.get("/apps/worker/ip_assignments").status_code == 404
