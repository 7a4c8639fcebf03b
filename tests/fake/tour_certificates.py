"""A tour of every certificate and IP address endpoint on the demo world's ``web`` app.

Written once as a generator (see :mod:`tests.fake.tour`); composed into the all-endpoints tour.
"""

from __future__ import annotations

import base64

from fly_tools.client import NotFoundError, UnprocessableError
from tests.fake.tour import Tour

WEB = {"app_name": "web"}
HOST = "www.example.com"
WILDCARD = "*.example.com"


def pem(label: str, payload: bytes) -> str:
    """A PEM block around ``payload`` (the fake checks the shape, not the X.509 inside)."""
    return f"-----BEGIN {label}-----\n{base64.b64encode(payload).decode()}\n-----END {label}-----\n"


FULLCHAIN = pem("CERTIFICATE", b"leaf-certificate-der") + pem("CERTIFICATE", b"intermediate-der")
PRIVATE_KEY = pem("PRIVATE KEY", b"tour-private-key-material-7f3a")


def certificates_tour() -> Tour:
    """Give ``web`` addresses and certificates, read them back, then take them all away."""
    yield from _addresses()
    yield from _certificates()
    yield from _cleanup()


def _addresses() -> Tour:
    shared = yield "fly_assign_ip", WEB | {"type": "shared_v4"}
    assert shared["shared"] is True
    v6 = yield "fly_assign_ip", WEB | {"type": "v6", "region": "ord"}
    assert (v6["shared"], v6["region"]) == (False, "ord")
    assert ":" in v6["ip"]
    listed = yield "fly_list_ip_assignments", WEB
    assert {ip["ip"] for ip in listed["ips"]} == {shared["ip"], v6["ip"]}


def _certificates() -> Tour:
    requested = yield "fly_request_acme_certificate", WEB | {"hostname": HOST}
    assert (requested["hostname"], requested["status"]) == (HOST, "pending_validation")
    assert requested["dns_requirements"]["cname"] == "web.fly.dev"
    again = yield "fly_request_acme_certificate", WEB | {"hostname": HOST.upper()}
    assert isinstance(again, UnprocessableError)
    uploaded = yield (
        "fly_upload_custom_certificate",
        WEB | {"hostname": WILDCARD, "fullchain": FULLCHAIN, "private_key": PRIVATE_KEY},
    )
    # Fly waits for the _fly-ownership TXT record (docs certificates-resource.html.markerb:212).
    assert uploaded["status"] == "pending_ownership"
    assert [c["source"] for c in uploaded["certificates"]] == ["custom"]
    assert "private_key" not in uploaded
    listed = yield "fly_list_certificates", WEB | {"filter": "example", "limit": 1}
    assert listed["total_count"] == 2
    assert [c["hostname"] for c in listed["certificates"]] == [WILDCARD]
    rest = yield "fly_list_certificates", WEB | {"cursor": listed["next_cursor"]}
    assert [c["hostname"] for c in rest["certificates"]] == [HOST]
    shown = yield "fly_get_certificate", WEB | {"hostname": HOST}
    assert shown["dns_requirements"]["acme_challenge"]["name"] == "_acme-challenge." + HOST
    checked = yield "fly_check_certificate", WEB | {"hostname": HOST}
    assert "dns_records" in checked


def _cleanup() -> Tour:
    acme_gone = yield "fly_delete_acme_certificate", WEB | {"hostname": HOST}
    assert acme_gone["acme_requested"] is False
    custom_gone = yield "fly_delete_custom_certificate", WEB | {"hostname": WILDCARD}
    assert "HTTPS" in custom_gone["warning"]
    for hostname in (HOST, WILDCARD):
        yield "fly_delete_certificate", WEB | {"hostname": hostname}
    missing = yield "fly_get_certificate", WEB | {"hostname": HOST}
    assert isinstance(missing, NotFoundError)
    listed = yield "fly_list_ip_assignments", WEB
    for ip in listed["ips"]:
        yield "fly_release_ip", WEB | {"ip": ip["ip"]}
    empty = yield "fly_list_ip_assignments", WEB
    assert empty["ips"] == []
