"""Handlers for an app's TLS certificates (ACME and custom).

State lives in ``App.extras["certificates"]``, which maps hostname to :class:`Certificate`.
Statuses are Fly's
(superfly/docs ``machines/api/certificates-resource.html.markerb``): an ACME certificate
is ``pending_validation`` for :data:`ACME_DELAY` fake seconds, then ``active``; an uploaded
one is ``pending_ownership`` until the ``_fly-ownership`` TXT record holds the app's or
org's value (:meth:`FakeFly.set_txt_record`), then ``active``. Custom certificates are
checked for PEM shape only: the fake reads no X.509.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from pydantic import Field, TypeAdapter

from fly_tools.models.certificates import Hostname, check_fullchain, check_private_key
from fly_tools.testing.calls import BodyParams, Call, Reply, route
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakeUnprocessableError,
    require_valid,
)
from fly_tools.testing.handlers.addresses import AppPath, ip_assignments
from fly_tools.testing.state import App, FakeState

ACME_DELAY = 30.0
"""Fake seconds between requesting an ACME certificate and Let's Encrypt issuing it."""
DAY = 86_400.0
CERT_LIFETIME = 90 * DAY
"""Let's Encrypt certificates last 90 days; the fake dates uploaded ones the same way."""
PAGE_SIZE, PAGE_MAX = 25, 500
_HOSTNAME = TypeAdapter(Hostname)


@dataclass(eq=False)
class Certificate:
    """One hostname on an app, with its Fly-issued and uploaded certificates."""

    hostname: str
    created_at: float
    updated_at: float
    acme_at: float | None = None
    """When ACME issuance was requested; ``None`` when Fly issues none."""
    custom_at: float | None = None
    """When a custom certificate was uploaded; its key is never kept."""
    custom_kind: str = "rsa"

    def acme_issued(self, now: float) -> bool:
        """Whether Let's Encrypt has issued the certificate by ``now``."""
        return self.acme_at is not None and now >= self.acme_at + ACME_DELAY

    def status(self, now: float, owned: bool) -> str:
        """Fly's status of the hostname: ``active`` once one of its certificates is,
        ``pending_ownership`` while an uploaded one waits for the ownership record,
        otherwise ``pending_validation`` (certificates-resource.html.markerb:109,176,261).

        Args:
            now: the fake time.
            owned: whether the ``_fly-ownership`` TXT record holds the expected value.
        """
        if self.acme_issued(now) or (self.custom_at is not None and owned):
            return "active"
        return "pending_ownership" if self.custom_at is not None else "pending_validation"

    def entries(self, now: float, owned: bool) -> list[dict[str, Any]]:
        """Fly's ``CertificateEntry`` list: the Fly-issued one, then the uploaded one."""
        found = []
        if self.acme_at is not None:
            issued = self.acme_at + ACME_DELAY if self.acme_issued(now) else None
            found.append(_entry("fly", self.acme_at, issued, ("ecdsa", "rsa")))
        if self.custom_at is not None:
            # An uploaded certificate is only served once the domain's owner proved it
            # (certificates-resource.html.markerb:212; flyctl certificates/root.go:169-181).
            waiting = None if owned else "pending_ownership"
            found.append(
                _entry("custom", self.custom_at, self.custom_at, (self.custom_kind,), waiting)
            )
        return found


def _entry(
    source: str,
    created: float,
    issued: float | None,
    kinds: tuple[str, ...],
    waiting: str | None = None,
) -> dict[str, Any]:
    issuer = "Let's Encrypt" if source == "fly" else "custom"
    entry: dict[str, Any] = {"source": source, "created_at": iso(created), "issuer": issuer}
    if issued is None:
        return entry | {"status": "pending_validation"}
    expires = iso(issued + CERT_LIFETIME)
    if waiting is not None:
        return entry | {"status": waiting, "expires_at": expires, "issued": []}
    issued_as = [
        {"type": kind, "certificate_authority": issuer, "expires_at": expires} for kind in kinds
    ]
    return entry | {"status": "active", "expires_at": expires, "issued": issued_as}


def certificates(app: App) -> dict[str, Certificate]:
    """The app's certificates by hostname (created on first use)."""
    store: dict[str, Certificate] = app.extras.setdefault("certificates", {})
    return store


# ---------------------------------------------------------------- wire shapes


def _ownership(app: App, hostname: str) -> dict[str, str]:
    base = hostname.removeprefix("*.")
    return {"name": f"_fly-ownership.{base}", "app_value": f"app-{app.id}",
            "org_value": f"org-{app.org.slug}"}  # fmt: skip


def _owned(fly: FakeState, app: App, cert: Certificate) -> bool:
    """Whether the world's DNS holds the ownership TXT record Fly asks for."""
    wanted = _ownership(app, cert.hostname)
    return fly.dns_txt.get(wanted["name"]) in (wanted["app_value"], wanted["org_value"])


def _dns_requirements(app: App, hostname: str) -> dict[str, Any]:
    ips = ip_assignments(app).values()
    base = hostname.removeprefix("*.")
    return {
        "a": [i.ip for i in ips if i.type in ("v4", "shared_v4")],
        "aaaa": [i.ip for i in ips if i.type == "v6"],
        "cname": f"{app.name}.fly.dev",
        "acme_challenge": {"name": f"_acme-challenge.{base}", "target": f"{base}.{app.id}.flydns.net"},
        "ownership": _ownership(app, hostname),
    }  # fmt: skip


def _validation(cert: Certificate, now: float, owned: bool) -> dict[str, bool]:
    issued = cert.acme_issued(now)
    # A wildcard is validated over DNS only (the _acme-challenge CNAME), never HTTP or TLS-ALPN.
    by_http = issued and not cert.hostname.startswith("*.")
    return {"dns_configured": issued, "alpn_configured": by_http, "http_configured": by_http,
            "ownership_txt_configured": owned}  # fmt: skip


def _detail(fly: FakeState, app: App, cert: Certificate) -> dict[str, Any]:
    now, owned = fly.now(), _owned(fly, app, cert)
    return {
        "hostname": cert.hostname,
        "status": cert.status(now, owned),
        "configured": cert.status(now, owned) == "active",
        "acme_requested": cert.acme_at is not None,
        "dns_provider": "external",
        "certificates": cert.entries(now, owned),
        "dns_requirements": _dns_requirements(app, cert.hostname),
        "validation": _validation(cert, now, owned),
        "validation_errors": [],
    }


def _summary(fly: FakeState, app: App, cert: Certificate) -> dict[str, Any]:
    now, owned = fly.now(), _owned(fly, app, cert)
    checks = _validation(cert, now, owned)
    return {
        "hostname": cert.hostname, "status": cert.status(now, owned),
        "configured": cert.status(now, owned) == "active",
        "acme_requested": cert.acme_at is not None, "acme_dns_configured": checks["dns_configured"],
        "acme_alpn_configured": checks["alpn_configured"],
        "acme_http_configured": checks["http_configured"],
        "has_fly_certificate": cert.acme_issued(now),
        "has_custom_certificate": cert.custom_at is not None,
        "ownership_txt_configured": owned, "dns_provider": "external",
        "created_at": iso(cert.created_at), "updated_at": iso(cert.updated_at),
    }  # fmt: skip


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


def _certificate(fly: FakeState, p: CertificatePath) -> tuple[App, Certificate]:
    app = fly.app(p.app_name)
    cert = certificates(app).get(p.hostname.lower())
    if cert is None:
        raise FakeNotFoundError(f"certificate for {p.hostname!r} not found")
    return app, cert


def _new_hostname(hostname: str) -> str:
    # A body Fly cannot use is a 422 here (the spec's answer), not the 400 of a bad path.
    if not hostname:
        raise FakeUnprocessableError("hostname is required")
    try:
        return require_valid(_HOSTNAME, hostname)
    except FakeBadRequestError as error:
        raise FakeUnprocessableError(error.message) from None


@route("fly_list_certificates", ListCertificatesParams)
def list_certificates(fly: FakeState, call: Call, p: ListCertificatesParams) -> Reply:
    app = fly.app(p.app_name)
    matching = sorted(h for h in certificates(app) if p.filter.lower() in h)
    # The cursor is opaque to callers: here, the first hostname of the next page.
    start = _cursor_start(matching, p.cursor)
    size = min(max(p.limit, 1), PAGE_MAX)
    page = matching[start : start + size]
    body: dict[str, Any] = {
        "certificates": [_summary(fly, app, certificates(app)[h]) for h in page],
        "total_count": len(matching),
    }
    if start + size < len(matching):
        body["next_cursor"] = base64.urlsafe_b64encode(matching[start + size].encode()).decode()
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
    app, now = fly.app(p.app_name), fly.now()
    hostname = _new_hostname(p.hostname)
    cert = certificates(app).get(hostname)
    if cert is not None and cert.acme_at is not None:
        raise FakeUnprocessableError("Hostname already exists on app")
    if cert is None:
        cert = certificates(app).setdefault(hostname, Certificate(hostname, now, now))
    cert.acme_at = cert.updated_at = now
    return Reply(_detail(fly, app, cert), status=201)


@route("fly_upload_custom_certificate", CustomParams)
def upload_custom(fly: FakeState, call: Call, p: CustomParams) -> Reply:
    app, now = fly.app(p.app_name), fly.now()
    hostname = _new_hostname(p.hostname)
    for name, check, text in (
        ("fullchain", check_fullchain, p.fullchain),
        ("private_key", check_private_key, p.private_key),
    ):
        try:
            check(text)
        except ValueError as error:
            raise FakeUnprocessableError(f"{name}: {error}") from None
    kind = "ecdsa" if "EC PRIVATE KEY" in p.private_key else "rsa"
    cert = certificates(app).setdefault(hostname, Certificate(hostname, now, now))
    cert.custom_at, cert.custom_kind, cert.updated_at = now, kind, now
    return Reply(_detail(fly, app, cert), status=201)


@route("fly_get_certificate", CertificatePath)
def get_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    return Reply(_detail(fly, app, cert))


@route("fly_check_certificate", CertificatePath)
def check_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    body = _detail(fly, app, cert)
    needs = body["dns_requirements"]
    # The fake's DNS points the hostname at the app once ACME issuance is done, not before.
    resolves = cert.acme_issued(fly.now())
    body["dns_records"] = {
        "a": needs["a"] if resolves else [], "aaaa": needs["aaaa"] if resolves else [],
        "cname": [needs["cname"]] if resolves else [],
        "resolved_addresses": [*needs["a"], *needs["aaaa"]] if resolves else [],
    }  # fmt: skip
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
        return [{
            "code": "ownership_pending", "timestamp": iso(now),
            "message": f"no TXT record {own['name']} with this app's value yet",
            "remediation": f"Add a TXT record {own['name']} = {own['app_value']}, then check again.",
        }]  # fmt: skip
    return [{
        "code": "dns_pending", "timestamp": iso(now),
        "message": f"{hostname} does not resolve to the app yet",
        "remediation": f"Add a CNAME record to {needs['cname']} or A/AAAA records, then check again.",
    }]  # fmt: skip


@route("fly_delete_certificate", CertificatePath)
def delete_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    del certificates(app)[cert.hostname]
    return Reply.empty(204)


@route("fly_delete_acme_certificate", CertificatePath)
def delete_acme(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    if cert.acme_at is None:
        raise FakeNotFoundError(f"no ACME certificate for {cert.hostname!r}")
    cert.acme_at, cert.updated_at = None, fly.now()
    return Reply(_detail(fly, app, cert))


@route("fly_delete_custom_certificate", CertificatePath)
def delete_custom(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    if cert.custom_at is None:
        raise FakeNotFoundError(f"no custom certificate for {cert.hostname!r}")
    cert.custom_at, cert.updated_at = None, fly.now()
    body = _detail(fly, app, cert)
    if body["status"] != "active":
        body["warning"] = f"No active certificate remains for {cert.hostname}: HTTPS for it fails."
    return Reply(body)
