"""Catalogue records: TLS certificates and public IP addresses of an app (opt-in groups)."""

from __future__ import annotations

from fly_tools.catalogue import sources as src
from fly_tools.catalogue.access import Need
from fly_tools.catalogue.record import Endpoint, Phrase
from fly_tools.models import certificates as c
from fly_tools.models.base import AppArgs
from fly_tools.risk import RiskTier, Scope

_ALL: frozenset[Scope] = frozenset({"org", "deploy"})
_READ: frozenset[Scope] = frozenset({"org", "deploy", "readonly"})
R, W, DE = RiskTier.READ, RiskTier.WRITE, RiskTier.DESTRUCTIVE
C = "/apps/{app_name}/certificates"
H = C + "/{hostname}"
IP = "/apps/{app_name}/ip_assignments"
_SUMMARY = (
    "hostname",
    "status",
    "configured",
    "has_fly_certificate",
    "has_custom_certificate",
    "dns_provider",
)
_DETAIL = (
    "hostname",
    "status",
    "configured",
    "acme_requested",
    "dns_requirements.cname",
    "dns_requirements.a",
    "dns_requirements.aaaa",
    "dns_requirements.acme_challenge",
    "validation_errors",
    "rate_limited_until",
)
_IP = ("ip", "region", "shared", "service_name", "created_at")
# Never shown, whatever Fly answers: the key of an uploaded certificate.
_KEY: frozenset[str] = frozenset({"private_key"})

# fmt: off
RECORDS: tuple[Endpoint, ...] = (
    Endpoint(name="fly_list_certificates", group="certificates", operation_id="App_Certificates_list",
             phrase=Phrase(ask="list the certificates in {target}", done="listed the certificates in {target}"),
             method="GET", path=C, args_model=c.ListCertificatesArgs,
             access=Need("app", "r"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads the app's certificate list.",
             description="List an app's TLS certificates (hostnames) with status; filter by hostname.",
             result="items", rows_at="certificates", noun="certificate", shows=_SUMMARY),
    Endpoint(name="fly_get_certificate", group="certificates", operation_id="App_Certificates_show",
             phrase=Phrase(ask="read {target}", done="read {target}"),
             method="GET", path=H, args_model=c.CertificateArgs,
             access=Need("app", "r"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads one certificate.",
             description="Show one hostname's certificate: status, DNS records it needs, issued certs.",
             result="item", noun="certificate", shows=_DETAIL),
    Endpoint(name="fly_request_acme_certificate", group="certificates",
             phrase=Phrase(ask="request a Let's Encrypt {target}", done="requested a Let's Encrypt {target}"),
             operation_id="App_Certificates_acme_create",
             method="POST", path=C + "/acme", args_model=c.RequestAcmeCertificateArgs,
             access=Need("app", "c"),
             risk=W, scopes=_ALL, idempotent=False,
             untrusted=src.NONE,
             tier_reason="It starts issuing a certificate for a new hostname; deleting it undoes the change.",
             description="Add a hostname to the app and have Fly issue it a Let's Encrypt certificate.",
             result="item", noun="certificate", shows=_DETAIL, target_kind="certificate"),
    Endpoint(name="fly_upload_custom_certificate", group="certificates",
             phrase=Phrase(ask="upload the custom {target}", done="uploaded the custom {target}"),
             operation_id="App_Certificates_custom_create",
             method="POST", path=C + "/custom", args_model=c.UploadCustomCertificateArgs,
             access=Need("app", "c"),
             risk=W, scopes=_ALL, idempotent=False,
             untrusted=src.NONE,
             tier_reason="It adds a certificate you hold the files of; deleting it undoes the change.",
             description="Upload your own certificate chain and private key for a hostname.",
             result="item", noun="certificate", shows=_DETAIL, hidden=_KEY,
             target_kind="certificate"),
    Endpoint(name="fly_check_certificate", group="certificates", operation_id="App_Certificates_check",
             phrase=Phrase(ask="check the DNS and issuance of {target}", done="checked the DNS and issuance of {target}"),
             method="POST", path=H + "/check", args_model=c.CertificateArgs,
             access=Need("app", "w"),
             risk=W, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It re-checks DNS and may let a pending issuance go ahead; nothing is removed.",
             description="Re-check a hostname's DNS now and show what resolves (after fixing DNS records).",
             result="item", noun="certificate", state_read="fly_get_certificate",
             shows=(*_DETAIL, "dns_records.a", "dns_records.aaaa", "dns_records.cname")),
    Endpoint(name="fly_delete_certificate", group="certificates", operation_id="App_Certificates_delete",
             phrase=Phrase(ask="delete {target}", done="deleted {target}"),
             method="DELETE", path=H, args_model=c.CertificateArgs,
             access=Need("app", "d"),
             risk=DE, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="The hostname's certificates are removed and HTTPS for it fails until a new one is issued.",
             description="Remove a hostname and all its certificates from the app. HTTPS for it stops.",
             result="item", noun="certificate", state_read="fly_get_certificate", type_back=True,
             consequence="The hostname stops serving HTTPS; a new certificate must be "
             "requested and validated again."),
    Endpoint(name="fly_delete_acme_certificate", group="certificates",
             phrase=Phrase(ask="delete the Let's Encrypt {target}", done="deleted the Let's Encrypt {target}"),
             operation_id="App_Certificates_acme_delete",
             method="DELETE", path=H + "/acme", args_model=c.CertificateArgs,
             access=Need("app", "d"),
             risk=DE, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="The issued certificates are revoked from the app; only a new issuance brings them back.",
             description="Remove the Fly-issued (Let's Encrypt) certificates of a hostname; keeps a custom one.",
             result="item", noun="certificate", shows=_DETAIL,
             state_read="fly_get_certificate", type_back=True,
             consequence="Its Let's Encrypt certificates are removed; unless a custom certificate "
             "covers it, HTTPS for it stops."),
    Endpoint(name="fly_delete_custom_certificate", group="certificates",
             phrase=Phrase(ask="delete the custom {target}", done="deleted the custom {target}"),
             operation_id="App_Certificates_custom_delete",
             method="DELETE", path=H + "/custom", args_model=c.CertificateArgs,
             access=Need("app", "d"),
             risk=DE, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="The uploaded certificate and key are deleted from Fly and must be uploaded again.",
             description="Remove the uploaded custom certificate of a hostname; a Fly-issued one stays.",
             result="item", noun="certificate", shows=(*_DETAIL, "warning"), hidden=_KEY,
             state_read="fly_get_certificate", type_back=True,
             consequence="The uploaded certificate is deleted; unless Fly issued one too, HTTPS "
             "for it stops."),
    Endpoint(name="fly_list_ip_assignments", group="network", operation_id="App_IPAssignments_list",
             phrase=Phrase(ask="list the IP addresses of {target}", done="listed the IP addresses of {target}"),
             method="GET", path=IP, args_model=AppArgs,
             access=Need("app", "r"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads the app's addresses.",
             description="List an app's public and Flycast IP addresses with region and whether shared.",
             result="items", rows_at="ips", noun="IP address", shows=_IP),
    Endpoint(name="fly_assign_ip", group="network", operation_id="App_IPAssignments_create",
             phrase=Phrase(ask="assign an IP address to {target}", done="assigned an IP address to {target}"),
             method="POST", path=IP, args_model=c.AssignIpArgs,
             access=Need("app", "c"),
             risk=DE, scopes=_ALL, idempotent=False,
             untrusted=src.NONE,
             tier_reason="A first public address exposes the app's services to the internet "
             "(docs networking/flycast.html.markerb:41); a dedicated IPv4 is billed monthly.",
             description="Give an app a new IP address (shared_v4 or v6 are free; v4 is billed).",
             result="item", noun="IP address", shows=_IP,
             consequence="If the app has no public address yet, its services become reachable "
             "from the whole internet at once; a dedicated IPv4 (type v4) is billed monthly "
             "until released."),
    Endpoint(name="fly_release_ip", group="network", operation_id="App_IPAssignments_delete",
             phrase=Phrase(ask="release {target}", done="released {target}"),
             method="DELETE", path=IP + "/{ip}", args_model=c.ReleaseIpArgs,
             access=Need("app", "d"),
             risk=DE, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="A released address goes back to Fly; a dedicated IPv4 can never be got back.",
             description="Release one of an app's IP addresses. Traffic to it stops; it cannot be got back.",
             result="item", noun="IP address", type_back=True,
             consequence="Traffic to this address stops and DNS records pointing at it break; "
             "a released address cannot be got back."),
)
# fmt: on
