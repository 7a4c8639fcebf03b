"""Argument models of the certificate and IP address endpoints, with the hostname and IP types they validate."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator

from fly_tools.models.base import OBVIOUS, AppArgs
from fly_tools.models.fields import OptionalInt
from fly_tools.models.identifiers import NetworkName, OrgSlug, Region

HOSTNAME_MAX = 253
"""The longest DNS name (RFC 1035), without the trailing dot."""
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# At least two labels, the last starting with a letter: "example.com", not "localhost"
# or an IP address; a leading "*." asks for a wildcard certificate, which Fly issues.
_HOSTNAME = re.compile(rf"(?:\*\.)?(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?")
_HOSTNAME_FORM = (
    "a DNS name such as 'www.example.com' or '*.example.com': dot-separated labels of "
    f"letters, digits and inner dashes, at most {HOSTNAME_MAX} characters"
)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _hostname(value: Any) -> Any:
    # DNS names are case-insensitive: 'WWW.Example.com' names the same certificate, so it is
    # lower-cased here rather than refused.
    if not isinstance(value, str):
        return value
    name = value.lower()
    if len(name) <= HOSTNAME_MAX and _HOSTNAME.fullmatch(name):
        return name
    bad = [c for c in ("/", "%", "?", "#", "\\", "..", ":", "@") if c in value]
    if any(not ch.isprintable() or ch.isspace() for ch in value):
        bad.append("whitespace or control characters")
    reason = f" (contains {', '.join(bad)})" if bad else ""
    raise ValueError(f"hostname must be {_HOSTNAME_FORM}; got {_shown(value)}{reason}")


Hostname = Annotated[str, BeforeValidator(_hostname)]
"""A certificate's hostname: a lower-cased DNS name, optionally a ``*.`` wildcard."""


def _ip_address(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"ip must be an IP address given as text; got {type(value).__name__}")
    # ipaddress accepts an IPv6 zone ("fe80::1%eth0"): a '%' never belongs in the path.
    if "%" not in value and len(value) <= 45:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    raise ValueError(
        "ip must be one IPv4 or IPv6 address as listed by fly_list_ip_assignments, "
        f"e.g. '137.66.1.2' or '2a09:8280:1::1'; got {_shown(value)}"
    )


IpAddress = Annotated[str, BeforeValidator(_ip_address)]
"""An IPv4 or IPv6 address, in its canonical (compressed, lower-case) text."""

ServiceName = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$", max_length=63)]

# ---------------------------------------------------------------- PEM material

_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----"
)
PEM_MAX = 64 * 1024
"""The longest certificate chain or key accepted: far more than any real chain."""


def _pem_blocks(text: str) -> list[tuple[str, bytes]]:
    """The (label, DER bytes) of each PEM block in ``text``; ``ValueError`` if one is corrupt."""
    blocks = []
    for match in _PEM_BLOCK.finditer(text):
        try:
            der = base64.b64decode("".join(match.group(2).split()), validate=True)
        except binascii.Error:
            raise ValueError(f"its {match.group(1)} block is not valid base64") from None
        blocks.append((match.group(1), der))
    return blocks


def check_fullchain(text: str) -> None:
    """Raise ``ValueError`` unless ``text`` is PEM certificates only (never quoting it)."""
    if "PRIVATE KEY" in text:
        raise ValueError(
            "fullchain holds a private key: send only the certificates there, and the key "
            "in private_key"
        )
    blocks = _pem_blocks(text)
    if not blocks or any(label != "CERTIFICATE" for label, _ in blocks):
        raise ValueError(
            "fullchain must be PEM text of the certificate then its intermediates, each "
            "between '-----BEGIN CERTIFICATE-----' and '-----END CERTIFICATE-----'"
        )


def check_private_key(text: str) -> None:
    """Raise ``ValueError`` unless ``text`` is one unencrypted PEM private key (never quoting it)."""
    try:
        labels = [label for label, _ in _pem_blocks(text)]
    except ValueError:
        labels = []
    if "ENCRYPTED PRIVATE KEY" in labels:
        raise ValueError("private_key is encrypted: Fly needs the key without a passphrase")
    if len(labels) != 1 or labels[0] not in ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"):
        raise ValueError(
            "private_key must be one unencrypted PEM key between '-----BEGIN PRIVATE KEY-----' "
            "(or RSA/EC PRIVATE KEY) and its END line"
        )


# The toolkit shows tracing callbacks a copy of the call with secret fields reading
# "[redacted]", and LangChain may validate that copy with this same model: the placeholder
# passes the shape checks here. The toolkit's own argument check refuses it in any secret
# field, so it is never sent (and the fake, which calls the checks directly, refuses it).
_PLACEHOLDER = "[redacted]"


def _pem_checked(check: Callable[[str], None]) -> AfterValidator:
    def validate(value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if text != _PLACEHOLDER:
            check(text)
        return value

    return AfterValidator(validate)


# ---------------------------------------------------------------- certificates


class ListCertificatesArgs(AppArgs):
    query_fields = ("filter", "cursor", "limit")
    filter: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9.*-]+$",
        max_length=HOSTNAME_MAX,
        description="Only hostnames containing this text.",
    )
    cursor: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_=+/.:-]+$",
        max_length=512,
        description="next_cursor of the previous page.",
    )
    limit: OptionalInt = Field(default=None, ge=1, le=500, description="Per page (default 25).")


class CertificateArgs(AppArgs):
    hostname: Hostname = Field(description="e.g. 'www.example.com'.")


class RequestAcmeCertificateArgs(CertificateArgs):
    sends_body = True


class UploadCustomCertificateArgs(CertificateArgs):
    sends_body = True
    # A chain is public, but a key pasted into it by mistake must not reach a tracer or
    # the audit trail: it is handled as a secret too.
    fullchain: Annotated[SecretStr, _pem_checked(check_fullchain)] = Field(
        max_length=PEM_MAX, description="PEM: the certificate, then its intermediates."
    )
    private_key: Annotated[SecretStr, _pem_checked(check_private_key)] = Field(
        max_length=PEM_MAX, description="PEM, unencrypted; never echoed back."
    )


# ---------------------------------------------------------------- IP addresses

IpType = Literal["v4", "v6", "shared_v4", "private_v6"]


class AssignIpArgs(AppArgs):
    sends_body = True
    type: IpType = Field(
        description="shared_v4 (free), v6 (free), v4 (dedicated, billed) or private_v6 (Flycast)."
    )
    region: Region | None = Field(default=None, description="Pin a dedicated address to a region.")
    network: NetworkName | None = Field(
        default=None, description="private_v6 only: the private network."
    )
    org_slug: OrgSlug | None = Field(
        default=None, description="The app's org.", json_schema_extra=OBVIOUS
    )
    service_name: ServiceName | None = Field(
        default=None, description="Bind the address to this service."
    )

    @model_validator(mode="after")
    def _fits_the_type(self) -> AssignIpArgs:
        # Fly ignores a region for the shared anycast address and a network for public
        # ones; refusing them says so before the agent relies on them.
        if self.network is not None and self.type != "private_v6":
            raise ValueError("network applies only to type 'private_v6' (a Flycast address)")
        if self.region is not None and self.type == "shared_v4":
            raise ValueError("a shared_v4 address is anycast: leave region out")
        return self


class ReleaseIpArgs(AppArgs):
    ip: IpAddress = Field(description="From fly_list_ip_assignments.")


__all__ = [
    "HOSTNAME_MAX",
    "AssignIpArgs",
    "CertificateArgs",
    "Hostname",
    "IpAddress",
    "IpType",
    "ListCertificatesArgs",
    "ReleaseIpArgs",
    "RequestAcmeCertificateArgs",
    "UploadCustomCertificateArgs",
    "check_fullchain",
    "check_private_key",
]
