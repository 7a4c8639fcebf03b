"""An app's TLS certificates in the fake: ACME issuance on the fake clock, uploads, ownership.

Statuses are Fly's (superfly/docs ``machines/api/certificates-resource.html.markerb``): an
ACME certificate is ``pending_validation`` for :data:`ACME_DELAY` fake seconds, then
``active``; an uploaded one is ``pending_ownership`` until the ``_fly-ownership`` TXT
record holds the app's or org's value (:meth:`FakeFly.set_txt_record`), then ``active``.
Custom certificates are checked for PEM shape only: the fake reads no X.509, and never
keeps the private key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from fly_tools.models.certificates import Hostname, check_fullchain, check_private_key
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeNotFoundError,
    FakeUnprocessableError,
    require_valid,
)

ACME_DELAY = 30.0
"""Fake seconds between requesting an ACME certificate and Let's Encrypt issuing it."""
DAY = 86_400.0
CERT_LIFETIME = 90 * DAY
"""Let's Encrypt certificates last 90 days; the fake dates uploaded ones the same way."""
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

    def validation(self, now: float, owned: bool) -> dict[str, bool]:
        """Which of Fly's checks pass: DNS, TLS-ALPN and HTTP validation, and ownership."""
        issued = self.acme_issued(now)
        # A wildcard is validated over DNS only (the _acme-challenge CNAME), never HTTP or
        # TLS-ALPN.
        by_http = issued and not self.hostname.startswith("*.")
        return {
            "dns_configured": issued,
            "alpn_configured": by_http,
            "http_configured": by_http,
            "ownership_txt_configured": owned,
        }

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


@dataclass(frozen=True)
class Ownership:
    """The TXT record that proves a hostname's owner wants the app to serve it."""

    name: str
    app_value: str
    org_value: str

    def proven(self, dns_txt: Mapping[str, str]) -> bool:
        """Whether the world's DNS holds the record with the app's or the org's value."""
        return dns_txt.get(self.name) in (self.app_value, self.org_value)

    def to_wire(self) -> dict[str, str]:
        """Fly's ``dns_requirements.ownership``."""
        return {"name": self.name, "app_value": self.app_value, "org_value": self.org_value}


@dataclass(eq=False)
class Certificates:
    """The hostnames of one app and their certificates, and the app's facts they need.

    Args:
        app: the app's name (its ``.fly.dev`` hostname is the CNAME target).
        app_id: the app's id (in its ownership value and ACME challenge target).
        org_slug: its organization (the other ownership value).
    """

    app: str
    app_id: str
    org_slug: str
    by_hostname: dict[str, Certificate] = field(default_factory=dict)

    def get(self, hostname: str) -> Certificate:
        """The certificate of ``hostname`` (any case)."""
        cert = self.by_hostname.get(hostname.lower())
        if cert is None:
            raise FakeNotFoundError(f"certificate for {hostname!r} not found")
        return cert

    def matching(self, text: str) -> list[Certificate]:
        """The certificates whose hostname contains ``text``, by hostname."""
        return [self.by_hostname[h] for h in sorted(self.by_hostname) if text.lower() in h]

    def request_acme(self, hostname: str, now: float) -> Certificate:
        """Ask Let's Encrypt for a certificate; it is issued :data:`ACME_DELAY` later."""
        hostname = _new_hostname(hostname)
        cert = self.by_hostname.get(hostname)
        if cert is not None and cert.acme_at is not None:
            raise FakeUnprocessableError("Hostname already exists on app")
        if cert is None:
            cert = self.by_hostname.setdefault(hostname, Certificate(hostname, now, now))
        cert.acme_at = cert.updated_at = now
        return cert

    def upload_custom(
        self, hostname: str, fullchain: str, private_key: str, now: float
    ) -> Certificate:
        """Add the owner's own certificate; it waits for the ownership record."""
        hostname = _new_hostname(hostname)
        for name, check, text in (
            ("fullchain", check_fullchain, fullchain),
            ("private_key", check_private_key, private_key),
        ):
            try:
                check(text)
            except ValueError as error:
                raise FakeUnprocessableError(f"{name}: {error}") from None
        kind = "ecdsa" if "EC PRIVATE KEY" in private_key else "rsa"
        cert = self.by_hostname.setdefault(hostname, Certificate(hostname, now, now))
        cert.custom_at, cert.custom_kind, cert.updated_at = now, kind, now
        return cert

    def delete(self, hostname: str) -> None:
        """Remove the hostname with all its certificates."""
        del self.by_hostname[self.get(hostname).hostname]

    def delete_acme(self, hostname: str, now: float) -> Certificate:
        """Stop Fly issuing a certificate for the hostname; an uploaded one stays."""
        cert = self.get(hostname)
        if cert.acme_at is None:
            raise FakeNotFoundError(f"no ACME certificate for {cert.hostname!r}")
        cert.acme_at, cert.updated_at = None, now
        return cert

    def delete_custom(self, hostname: str, now: float) -> Certificate:
        """Remove the uploaded certificate; a Fly-issued one stays."""
        cert = self.get(hostname)
        if cert.custom_at is None:
            raise FakeNotFoundError(f"no custom certificate for {cert.hostname!r}")
        cert.custom_at, cert.updated_at = None, now
        return cert

    def ownership(self, cert: Certificate) -> Ownership:
        """The TXT record Fly asks for before serving an uploaded certificate."""
        base = cert.hostname.removeprefix("*.")
        return Ownership(f"_fly-ownership.{base}", f"app-{self.app_id}", f"org-{self.org_slug}")

    def dns_requirements(
        self, cert: Certificate, ipv4: list[str], ipv6: list[str]
    ) -> dict[str, Any]:
        """The DNS records Fly asks the owner to publish, given the app's public addresses."""
        base = cert.hostname.removeprefix("*.")
        return {
            "a": ipv4,
            "aaaa": ipv6,
            "cname": f"{self.app}.fly.dev",
            "acme_challenge": {
                "name": f"_acme-challenge.{base}",
                "target": f"{base}.{self.app_id}.flydns.net",
            },
            "ownership": self.ownership(cert).to_wire(),
        }


def _new_hostname(hostname: str) -> str:
    # A body Fly cannot use is a 422 here (the spec's answer), not the 400 of a bad path.
    if not hostname:
        raise FakeUnprocessableError("hostname is required")
    try:
        return require_valid(_HOSTNAME, hostname)
    except FakeBadRequestError as error:
        raise FakeUnprocessableError(error.message) from None
