"""Handlers for an app's TLS certificates (ACME and custom).

The certificates and their rules are :mod:`fly_tools.testing.certificates`; here requests
are read, pages cut and answers shaped.
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import Field

from fly_tools.testing.apps import App
from fly_tools.testing.calls import BodyParams, Call, Reply, route
from fly_tools.testing.certificates import Certificate
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import FakeBadRequestError
from fly_tools.testing.handlers.addresses import AppPath
from fly_tools.testing.state import FakeState

PAGE_SIZE, PAGE_MAX = 25, 500


# ---------------------------------------------------------------- wire shapes


def _owned(fly: FakeState, app: App, cert: Certificate) -> bool:
    return app.certificates.ownership(cert).proven(fly.dns_txt)


def _dns_requirements(app: App, cert: Certificate) -> dict[str, Any]:
    ipv4 = app.ip_addresses.of_types("v4", "shared_v4")
    return app.certificates.dns_requirements(cert, ipv4, app.ip_addresses.of_types("v6"))


def _detail(fly: FakeState, app: App, cert: Certificate) -> dict[str, Any]:
    now, owned = fly.now(), _owned(fly, app, cert)
    return {
        "hostname": cert.hostname,
        "status": cert.status(now, owned),
        "configured": cert.status(now, owned) == "active",
        "acme_requested": cert.acme_at is not None,
        "dns_provider": "external",
        "certificates": cert.entries(now, owned),
        "dns_requirements": _dns_requirements(app, cert),
        "validation": cert.validation(now, owned),
        "validation_errors": [],
    }


def _summary(fly: FakeState, app: App, cert: Certificate) -> dict[str, Any]:
    now, owned = fly.now(), _owned(fly, app, cert)
    checks = cert.validation(now, owned)
    return {
        "hostname": cert.hostname,
        "status": cert.status(now, owned),
        "configured": cert.status(now, owned) == "active",
        "acme_requested": cert.acme_at is not None,
        "acme_dns_configured": checks["dns_configured"],
        "acme_alpn_configured": checks["alpn_configured"],
        "acme_http_configured": checks["http_configured"],
        "has_fly_certificate": cert.acme_issued(now),
        "has_custom_certificate": cert.custom_at is not None,
        "ownership_txt_configured": owned,
        "dns_provider": "external",
        "created_at": iso(cert.created_at),
        "updated_at": iso(cert.updated_at),
    }


# ---------------------------------------------------------------- certificates


class CertificatePath(AppPath):
    hostname: str


class ListCertificatesParams(AppPath):
    filter: str = ""
    cursor: str | None = None
    limit: int = PAGE_SIZE


class AcmeParams(AppPath, BodyParams):
    hostname: str = ""


class CustomParams(AppPath, BodyParams):
    hostname: str = ""
    fullchain: str = ""
    private_key: str = Field(default="", repr=False)


@route("fly_list_certificates", ListCertificatesParams)
def list_certificates(fly: FakeState, call: Call, p: ListCertificatesParams) -> Reply:
    app = fly.app(p.app_name)
    matching = app.certificates.matching(p.filter)
    # The cursor is opaque to callers: here, the first hostname of the next page.
    start = _cursor_start([c.hostname for c in matching], p.cursor)
    size = min(max(p.limit, 1), PAGE_MAX)
    page = matching[start : start + size]
    body: dict[str, Any] = {
        "certificates": [_summary(fly, app, cert) for cert in page],
        "total_count": len(matching),
    }
    if start + size < len(matching):
        following = matching[start + size].hostname
        body["next_cursor"] = base64.urlsafe_b64encode(following.encode()).decode()
    return Reply(body)


def _cursor_start(hostnames: list[str], cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        first = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        first = ""
    if not first:
        raise FakeBadRequestError("invalid cursor: pass next_cursor from the previous page")
    return next((i for i, h in enumerate(hostnames) if h >= first), len(hostnames))


# The literal paths (``/acme``, ``/custom``) are registered before ``/{hostname}``: the
# fake's router takes the first template that matches.
@route("fly_request_acme_certificate", AcmeParams)
def request_acme(fly: FakeState, call: Call, p: AcmeParams) -> Reply:
    app = fly.app(p.app_name)
    cert = app.certificates.request_acme(p.hostname, fly.now())
    return Reply(_detail(fly, app, cert), status=201)


@route("fly_upload_custom_certificate", CustomParams)
def upload_custom(fly: FakeState, call: Call, p: CustomParams) -> Reply:
    app = fly.app(p.app_name)
    cert = app.certificates.upload_custom(p.hostname, p.fullchain, p.private_key, fly.now())
    return Reply(_detail(fly, app, cert), status=201)


@route("fly_get_certificate", CertificatePath)
def get_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app = fly.app(p.app_name)
    return Reply(_detail(fly, app, app.certificates.get(p.hostname)))


@route("fly_check_certificate", CertificatePath)
def check_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app = fly.app(p.app_name)
    cert = app.certificates.get(p.hostname)
    body = _detail(fly, app, cert)
    needs = body["dns_requirements"]
    # The fake's DNS points the hostname at the app once ACME issuance is done, not before.
    resolves = cert.acme_issued(fly.now())
    body["dns_records"] = {
        "a": needs["a"] if resolves else [],
        "aaaa": needs["aaaa"] if resolves else [],
        "cname": [needs["cname"]] if resolves else [],
        "resolved_addresses": [*needs["a"], *needs["aaaa"]] if resolves else [],
    }
    txt = fly.dns_txt.get(needs["ownership"]["name"])
    if txt is not None:
        body["dns_records"]["ownership_txt"] = txt
    body["validation_errors"] = _check_errors(cert.hostname, body["status"], needs, fly.now())
    return Reply(body)


def _check_errors(
    hostname: str, status: str, needs: dict[str, Any], now: float
) -> list[dict[str, Any]]:
    """What a check tells the owner to fix, for a hostname not yet ``active``."""
    if status == "active":
        return []
    if status == "pending_ownership":
        # flyctl certificates/root.go:340-345: the TXT record to add, then check again.
        own = needs["ownership"]
        return [
            {
                "code": "ownership_pending",
                "timestamp": iso(now),
                "message": f"no TXT record {own['name']} with this app's value yet",
                "remediation": f"Add a TXT record {own['name']} = {own['app_value']}, then check again.",
            }
        ]
    return [
        {
            "code": "dns_pending",
            "timestamp": iso(now),
            "message": f"{hostname} does not resolve to the app yet",
            "remediation": f"Add a CNAME record to {needs['cname']} or A/AAAA records, then check again.",
        }
    ]


@route("fly_delete_certificate", CertificatePath)
def delete_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    fly.app(p.app_name).certificates.delete(p.hostname)
    return Reply.empty(204)


@route("fly_delete_acme_certificate", CertificatePath)
def delete_acme(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app = fly.app(p.app_name)
    cert = app.certificates.delete_acme(p.hostname, fly.now())
    return Reply(_detail(fly, app, cert))


@route("fly_delete_custom_certificate", CertificatePath)
def delete_custom(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app = fly.app(p.app_name)
    cert = app.certificates.delete_custom(p.hostname, fly.now())
    body = _detail(fly, app, cert)
    if body["status"] != "active":
        body["warning"] = f"No active certificate remains for {cert.hostname}: HTTPS for it fails."
    return Reply(body)
