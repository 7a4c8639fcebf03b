"""Handlers for an app's TLS certificates (ACME and custom) and its IP address assignments.

State lives in ``App.extras``: ``"certificates"`` maps hostname to :class:`Certificate`,
``"ip_assignments"`` maps address to :class:`IpAssignment`. An ACME certificate is
"pending" for :data:`ACME_DELAY` fake seconds after it is requested, then "ready".
Custom certificates are checked for PEM shape only: the fake reads no X.509.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from typing import Any

from pydantic import Field, TypeAdapter, field_validator

from fly_tools.models.certificates import Hostname, check_fullchain, check_private_key
from fly_tools.models.identifiers import OrgSlug
from fly_tools.testing.calls import REGION, BodyParams, Call, Params, Reply, route
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakeUnprocessableError,
    require_valid,
)
from fly_tools.testing.state import App, FakeState

ACME_DELAY = 30.0
"""Fake seconds between requesting an ACME certificate and Let's Encrypt issuing it."""
DAY = 86_400.0
CERT_LIFETIME = 90 * DAY
"""Let's Encrypt certificates last 90 days; the fake dates uploaded ones the same way."""
PAGE_SIZE, PAGE_MAX = 25, 500
IP_TYPES = ("v4", "v6", "shared_v4", "private_v6")
_HOSTNAME = TypeAdapter(Hostname)
_ORG_SLUG = TypeAdapter(OrgSlug)


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

    def status(self, now: float) -> str:
        """``ready`` when a certificate is active, ``pending`` while one is being issued."""
        if self.custom_at is not None or self.acme_issued(now):
            return "ready"
        return "pending" if self.acme_at is not None else "missing"

    def entries(self, now: float) -> list[dict[str, Any]]:
        """Fly's ``CertificateEntry`` list: the Fly-issued one, then the uploaded one."""
        found = []
        if self.acme_at is not None:
            issued = self.acme_at + ACME_DELAY if self.acme_issued(now) else None
            found.append(_entry("fly", self.acme_at, issued, ("ecdsa", "rsa")))
        if self.custom_at is not None:
            found.append(_entry("custom", self.custom_at, self.custom_at, (self.custom_kind,)))
        return found


def _entry(
    source: str, created: float, issued: float | None, kinds: tuple[str, ...]
) -> dict[str, Any]:
    issuer = "Let's Encrypt" if source == "fly" else "custom"
    entry: dict[str, Any] = {"source": source, "created_at": iso(created), "issuer": issuer}
    if issued is None:
        return entry | {"status": "pending_validation"}
    expires = iso(issued + CERT_LIFETIME)
    issued_as = [
        {"type": kind, "certificate_authority": issuer, "expires_at": expires} for kind in kinds
    ]
    return entry | {"status": "active", "expires_at": expires, "issued": issued_as}


@dataclass(eq=False)
class IpAssignment:
    """One address of an app."""

    ip: str
    type: str
    region: str
    created_at: float
    service_name: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``IPAssignment``."""
        wire = {"ip": self.ip, "region": self.region, "shared": self.type == "shared_v4",
                "created_at": iso(self.created_at)}  # fmt: skip
        if self.service_name:
            wire["service_name"] = self.service_name
        return wire


def certificates(app: App) -> dict[str, Certificate]:
    """The app's certificates by hostname (created on first use)."""
    store: dict[str, Certificate] = app.extras.setdefault("certificates", {})
    return store


def ip_assignments(app: App) -> dict[str, IpAssignment]:
    """The app's IP assignments by canonical address (created on first use)."""
    store: dict[str, IpAssignment] = app.extras.setdefault("ip_assignments", {})
    return store


# ---------------------------------------------------------------- wire shapes


def _dns_requirements(app: App, hostname: str) -> dict[str, Any]:
    ips = ip_assignments(app).values()
    base = hostname.removeprefix("*.")
    return {
        "a": [i.ip for i in ips if i.type in ("v4", "shared_v4")],
        "aaaa": [i.ip for i in ips if i.type == "v6"],
        "cname": f"{app.name}.fly.dev",
        "acme_challenge": {"name": f"_acme-challenge.{base}", "target": f"{base}.{app.id}.flydns.net"},
        "ownership": {"name": f"_fly-ownership.{base}", "app_value": f"app-{app.id}",
                      "org_value": f"org-{app.org.slug}"},
    }  # fmt: skip


def _validation(cert: Certificate, now: float) -> dict[str, bool]:
    ready = cert.status(now) == "ready"
    # A wildcard is validated over DNS only (the _acme-challenge CNAME), never HTTP or TLS-ALPN.
    by_http = ready and not cert.hostname.startswith("*.")
    return {"dns_configured": ready, "alpn_configured": by_http, "http_configured": by_http,
            "ownership_txt_configured": False}  # fmt: skip


def _detail(app: App, cert: Certificate, now: float) -> dict[str, Any]:
    return {
        "hostname": cert.hostname,
        "status": cert.status(now),
        "configured": cert.status(now) == "ready",
        "acme_requested": cert.acme_at is not None,
        "dns_provider": "external",
        "certificates": cert.entries(now),
        "dns_requirements": _dns_requirements(app, cert.hostname),
        "validation": _validation(cert, now),
        "validation_errors": [],
    }


def _summary(cert: Certificate, now: float) -> dict[str, Any]:
    checks = _validation(cert, now)
    return {
        "hostname": cert.hostname, "status": cert.status(now), "configured": checks["dns_configured"],
        "acme_requested": cert.acme_at is not None, "acme_dns_configured": checks["dns_configured"],
        "acme_alpn_configured": checks["alpn_configured"],
        "acme_http_configured": checks["http_configured"],
        "has_fly_certificate": cert.acme_issued(now),
        "has_custom_certificate": cert.custom_at is not None,
        "ownership_txt_configured": False, "dns_provider": "external",
        "created_at": iso(cert.created_at), "updated_at": iso(cert.updated_at),
    }  # fmt: skip


# ---------------------------------------------------------------- certificates


class AppPath(Params):
    app_name: str


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
    app, now = fly.app(p.app_name), fly.now()
    matching = sorted(h for h in certificates(app) if p.filter.lower() in h)
    # The cursor is opaque to callers: here, the first hostname of the next page.
    start = _cursor_start(matching, p.cursor)
    size = min(max(p.limit, 1), PAGE_MAX)
    page = matching[start : start + size]
    body: dict[str, Any] = {
        "certificates": [_summary(certificates(app)[h], now) for h in page],
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
    return Reply(_detail(app, cert, now), status=201)


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
    return Reply(_detail(app, cert, now), status=201)


@route("fly_get_certificate", CertificatePath)
def get_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    return Reply(_detail(app, cert, fly.now()))


@route("fly_check_certificate", CertificatePath)
def check_certificate(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    now = fly.now()
    body = _detail(app, cert, now)
    needs = body["dns_requirements"]
    # The fake's DNS answers what Fly asks for once the certificate is issued, nothing before.
    ready = body["configured"]
    body["dns_records"] = {
        "a": needs["a"] if ready else [], "aaaa": needs["aaaa"] if ready else [],
        "cname": [needs["cname"]] if ready else [],
        "resolved_addresses": [*needs["a"], *needs["aaaa"]] if ready else [],
    }  # fmt: skip
    if not ready:
        body["validation_errors"] = [{
            "code": "dns_pending", "timestamp": iso(now),
            "message": f"{cert.hostname} does not resolve to the app yet",
            "remediation": f"Add a CNAME record to {needs['cname']} or A/AAAA records, then check again.",
        }]  # fmt: skip
    return Reply(body)


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
    return Reply(_detail(app, cert, fly.now()))


@route("fly_delete_custom_certificate", CertificatePath)
def delete_custom(fly: FakeState, call: Call, p: CertificatePath) -> Reply:
    app, cert = _certificate(fly, p)
    if cert.custom_at is None:
        raise FakeNotFoundError(f"no custom certificate for {cert.hostname!r}")
    now = fly.now()
    cert.custom_at, cert.updated_at = None, now
    body = _detail(app, cert, now)
    if cert.status(now) != "ready":
        body["warning"] = f"No active certificate remains for {cert.hostname}: HTTPS for it fails."
    return Reply(body)


# ---------------------------------------------------------------- IP assignments


class AssignIpParams(AppPath, BodyParams):
    type: str = ""
    region: str | None = None
    network: str | None = None
    org_slug: str | None = None
    service_name: str | None = None

    @field_validator("region", "network", "org_slug", "service_name", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # fly-go's AssignIPRequest has no omitempty (flaps/flaps_ip_assignments.go:28-34):
        # flyctl's first deploy sends all five keys, "" for each one it leaves unset.
        return None if value == "" else value


class IpPath(AppPath):
    ip: str


@route("fly_list_ip_assignments", AppPath)
def list_ips(fly: FakeState, call: Call, p: AppPath) -> Reply:
    app = fly.app(p.app_name)
    return Reply({"ips": [ip.to_wire() for ip in ip_assignments(app).values()]})


@route("fly_assign_ip", AssignIpParams)
def assign_ip(fly: FakeState, call: Call, p: AssignIpParams) -> Reply:
    app = fly.app(p.app_name)
    _check_assign(app, p)
    address = _new_address(fly, app, p.type)
    region = p.region if p.region and p.type in ("v4", "v6") else "global"
    assigned = IpAssignment(address, p.type, region, fly.now(), p.service_name)
    ip_assignments(app)[address] = assigned
    return Reply(assigned.to_wire())


def _check_assign(app: App, p: AssignIpParams) -> None:
    if p.type not in IP_TYPES:
        raise FakeBadRequestError(f"type must be one of {', '.join(IP_TYPES)}; got {p.type!r}")
    if p.region is not None:
        require_valid(REGION, p.region)
    if p.org_slug is not None and require_valid(_ORG_SLUG, p.org_slug) != app.org.slug:
        raise FakeBadRequestError(f"org_slug {p.org_slug!r} is not the organization of {app.name}")
    if p.network is not None and p.type != "private_v6":
        raise FakeBadRequestError("network is only for private_v6 (Flycast) addresses")
    if p.type == "shared_v4" and any(i.type == "shared_v4" for i in ip_assignments(app).values()):
        raise FakeUnprocessableError(f"{app.name} already has a shared IPv4 address")


def _new_address(fly: FakeState, app: App, kind: str) -> str:
    ids, held = fly.ids, ip_assignments(app)
    while True:
        if kind == "shared_v4":
            address = f"66.241.{124 + app.internal_numeric_id % 4}.{ids.number(1, 255)}"
        elif kind == "v4":
            address = f"137.66.{ids.number(0, 256)}.{ids.number(1, 255)}"
        elif kind == "v6":
            address = f"2a09:8280:1::{ids.number(1, 0xFFFF):x}:{ids.number(1, 0xFFFF):x}"
        else:
            address = f"fdaa:0:{app.org.internal_numeric_id:x}:0:1::{ids.number(1, 0xFFFF):x}"
        address = str(ipaddress.ip_address(address))
        if address not in held:
            return address


@route("fly_release_ip", IpPath)
def release_ip(fly: FakeState, call: Call, p: IpPath) -> Reply:
    app = fly.app(p.app_name)
    try:
        address = str(ipaddress.ip_address(p.ip))
    except ValueError:
        raise FakeBadRequestError(f"{p.ip!r} is not an IP address") from None
    if ip_assignments(app).pop(address, None) is None:
        raise FakeNotFoundError(f"IP address {address} is not assigned to {app.name}")
    return Reply.empty(204)
