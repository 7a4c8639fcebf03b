"""Catalogue records: volume snapshots, the platform and org-wide lists, credentials (opt-in groups)."""

from __future__ import annotations

from fly_tools.catalogue import sources as src
from fly_tools.catalogue.access import Need
from fly_tools.catalogue.record import Endpoint, Phrase
from fly_tools.models import platform as p
from fly_tools.risk import SCOPES, RiskTier, Scope

_ALL: frozenset[Scope] = frozenset({"org", "deploy"})
_READ: frozenset[Scope] = frozenset({"org", "deploy", "readonly"})
# Org-wide lists reach every app of the org: an app-bound deploy token cannot.
_ORG_READ: frozenset[Scope] = frozenset({"org", "readonly"})
# Any token may ask Fly about itself; the toolkit's scope check depends on it.
_SELF: frozenset[Scope] = frozenset(SCOPES)
R, W, DE = RiskTier.READ, RiskTier.WRITE, RiskTier.DESTRUCTIVE
V = "/apps/{app_name}/volumes/{volume_id}"
# Minted credentials and the token material Fly echoes about the client's own token.
_MINTED = frozenset({"token"})
_TOKEN_MATERIAL = frozenset({"header", "permission_token"})

# fmt: off
RECORDS: tuple[Endpoint, ...] = (
    Endpoint(name="fly_list_volume_snapshots", group="snapshots", operation_id="Volumes_list_snapshots",
             phrase=Phrase(ask="list the snapshots of {target}", done="listed the snapshots of {target}"),
             method="GET", path=V + "/snapshots", args_model=p.VolumeSnapshotsArgs,
             access=Need("volume", "r"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads the volume's snapshot list.",
             description="List a volume's snapshots (daily and on demand) with status, size and age.",
             result="items", noun="snapshot", rows_at=None,
             shows=("id", "status", "created_at", "size", "retention_days")),
    Endpoint(name="fly_create_volume_snapshot", group="snapshots", operation_id="createVolumeSnapshot",
             phrase=Phrase(ask="take a snapshot of {target}", done="took a snapshot of {target}"),
             method="POST", path=V + "/snapshots", args_model=p.VolumeSnapshotsArgs,
             access=Need("volume", "c"),
             risk=W, scopes=_ALL, idempotent=False,
             untrusted=src.NONE,
             tier_reason="It adds a restore point beside the volume, which expires on its own; the volume is untouched.",
             description="Snapshot a volume now; take one before risky changes to its data.",
             result="item", noun="snapshot", state_read="fly_get_volume"),
    Endpoint(name="fly_update_volume", group="snapshots", operation_id="Volumes_update",
             phrase=Phrase(ask="change the snapshot settings of {target}", done="changed the snapshot settings of {target}"),
             method="PUT", path=V, args_model=p.UpdateVolumeArgs,
             access=Need("volume", "w"),
             risk=W, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="A new retention applies to new snapshots only; none is deleted "
             "(docs volumes/snapshots.html.markerb:26,180); setting it back undoes it.",
             description="Change a volume's snapshot retention (days) or turn daily backups on or off.",
             result="item", noun="volume", state_read="fly_get_volume",
             shows=("id", "name", "snapshot_retention", "auto_backup_enabled", "size_gb", "region")),
    Endpoint(name="fly_list_regions", group="platform", operation_id="Platform_regions_get",
             phrase=Phrase(ask="list the regions of {target}", done="listed the regions of {target}"),
             method="GET", path="/platform/regions", args_model=p.NoArgs,
             access=Need("token", ""),
             risk=R, scopes=_READ, idempotent=True, target_kind="platform",
             untrusted=src.NONE,
             tier_reason="It only reads Fly's list of regions.",
             description="List Fly's regions with code, name, area and whether they need a paid plan.",
             result="items", noun="region", rows_at="regions",
             shows=("code", "name", "geo_region", "requires_paid_plan", "deprecated")),
    Endpoint(name="fly_get_placements", group="platform", operation_id="Platform_placements_post",
             phrase=Phrase(ask="simulate where new machines would be placed for {target}", done="simulated where new machines would be placed for {target}"),
             method="POST", path="/platform/placements", args_model=p.PlacementsArgs,
             access=Need("token", ""),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only simulates placing machines; nothing is created or reserved.",
             description="Simulate where N machines of a size would be placed, per region, before creating.",
             result="items", noun="placement", rows_at="regions",
             shows=("region", "count", "concurrency")),
    Endpoint(name="fly_list_org_machines", group="platform", operation_id="Machines_org_list",
             phrase=Phrase(ask="list the machines of {target}", done="listed the machines of {target}"),
             method="GET", path="/orgs/{org_slug}/machines", args_model=p.ListOrgMachinesArgs,
             access=Need("org", "r"),
             risk=R, scopes=_ORG_READ, idempotent=True,
             untrusted=src.ORG_MACHINES,
             tier_reason="It only reads the machines of every app in the organization.",
             description="List machines across all apps of an org; filter by state or region, page by cursor.",
             result="items", noun="machine", rows_at="machines",
             shows=("id", "app_name", "name", "state", "region", "updated_at")),
    Endpoint(name="fly_list_org_volumes", group="platform", operation_id="Volumes_org_list",
             phrase=Phrase(ask="list the volumes of {target}", done="listed the volumes of {target}"),
             method="GET", path="/orgs/{org_slug}/volumes", args_model=p.ListOrgVolumesArgs,
             access=Need("org", "r"),
             risk=R, scopes=_ORG_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads the volumes of every app in the organization.",
             description="List volumes across all apps of an org; filter by state or region, page by cursor.",
             result="items", noun="volume", rows_at="volumes",
             shows=("id", "app_name", "name", "state", "region", "size_gb", "attached_machine_id")),
    Endpoint(name="fly_create_deploy_token", group="credentials", operation_id="App_create_deploy_token",
             phrase=Phrase(ask="create a deploy token for {target}", done="created a deploy token for {target}"),
             method="POST", path="/apps/{app_name}/deploy_token", args_model=p.CreateDeployTokenArgs,
             access=Need("app", "c"),
             risk=DE, scopes=_ALL, idempotent=False, hidden=_MINTED,
             untrusted=src.NONE,
             tier_reason="It mints a credential with full control of the app, which this API cannot revoke.",
             description="Mint a deploy token for one app. The token is withheld: only a human can see it.",
             result="item", noun="deploy token", shows=("token",), state_read="fly_get_app",
             consequence="A new credential with full control of this app exists until it expires; "
             "revoking it needs flyctl or the dashboard."),
    Endpoint(name="fly_request_kms_token", group="credentials", operation_id="Tokens_request_Kms",
             phrase=Phrase(ask="request a KMS token for {target}", done="requested a KMS token for {target}"),
             method="POST", path="/tokens/kms", args_model=p.NoArgs,
             access=Need("token", "c"),
             risk=DE, scopes=_ALL, idempotent=False, hidden=_MINTED, flow="text_token",
             untrusted=src.NONE,
             tier_reason="It mints a credential for Fly's KMS, which cannot be recalled once issued.",
             description="Mint a token for Fly's KMS (Petsem). The token is withheld: only a human sees it.",
             result="item", noun="KMS token", shows=("token",),
             consequence="A new credential for this organization's KMS keys exists until it "
             "expires; it cannot be recalled."),
    Endpoint(name="fly_get_current_token", group="credentials", operation_id="CurrentToken_show",
             phrase=Phrase(ask="read what this toolkit's own token reaches in {target}", done="read what this toolkit's own token reaches in {target}"),
             method="GET", path="/tokens/current", args_model=p.NoArgs,
             access=Need("token", "", "machinesapi"),
             risk=R, scopes=_SELF, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads which organization and apps this client's token reaches.",
             description="Show which organization and apps this toolkit's own token reaches.",
             result="items", noun="token", rows_at="tokens",
             shows=("token_id", "org_slug", "organization", "apps", "user", "restricted_to_machine")),
    Endpoint(name="fly_authorize_token", group="credentials", operation_id="Tokens_authorize",
             phrase=Phrase(ask="check whether this toolkit's own token grants access to {target}", done="checked whether this toolkit's own token grants access to {target}"),
             method="POST", path="/tokens/authorize", args_model=p.AuthorizeTokenArgs,
             access=Need("token", "", "machinesapi"),
             risk=R, scopes=_SELF, idempotent=True, flow="own_token", hidden=_TOKEN_MATERIAL,
             untrusted=src.NONE,
             tier_reason="It only asks Fly whether this client's own token grants an access.",
             description="Check whether this toolkit's own token grants an access (e.g. 'w' on an app).",
             result="item", noun="access granted", shows=("access", "verified_token.caveats"),
             advice={403: "This token does not grant that access: ask for a token that does."}),
    Endpoint(name="fly_authenticate_token", group="credentials", operation_id="Tokens_authenticate",
             phrase=Phrase(ask="verify this toolkit's own token for {target}", done="verified this toolkit's own token for {target}"),
             method="POST", path="/tokens/authenticate", args_model=p.OwnTokenArgs,
             access=Need("token", "", "machinesapi"),
             risk=R, scopes=_SELF, idempotent=True, flow="own_token", hidden=_TOKEN_MATERIAL,
             untrusted=src.NONE,
             tier_reason="It only asks Fly to verify this client's own token and list its caveats.",
             description="Verify this toolkit's own token and list its caveats (org, apps, allowed actions).",
             result="items", noun="verified token", rows_at=None, shows=("caveats",)),
)
# fmt: on
