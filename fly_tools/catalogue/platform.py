"""Catalogue records: volume snapshots, the platform and org-wide lists, credentials (opt-in groups)."""

from __future__ import annotations

from fly_tools.catalogue import sources as src
from fly_tools.catalogue.record import Endpoint
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
             method="GET", path=V + "/snapshots", args_model=p.VolumeSnapshotsArgs,
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads the volume's snapshot list.",
             description="List a volume's snapshots (daily and on demand) with status, size and age.",
             result="items", noun="snapshot", rows_at=None,
             shows=("id", "status", "created_at", "size", "retention_days")),
    Endpoint(name="fly_create_volume_snapshot", group="snapshots", operation_id="createVolumeSnapshot",
             method="POST", path=V + "/snapshots", args_model=p.VolumeSnapshotsArgs,
             risk=W, scopes=_ALL, idempotent=False,
             untrusted=src.NONE,
             tier_reason="It adds a restore point beside the volume, which expires on its own; the volume is untouched.",
             description="Snapshot a volume now; take one before risky changes to its data.",
             result="item", noun="snapshot", state_read="fly_get_volume"),
    Endpoint(name="fly_update_volume", group="snapshots", operation_id="Volumes_update",
             method="PUT", path=V, args_model=p.UpdateVolumeArgs,
             risk=DE, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="Lowering the retention can delete older snapshots, and lost restore points cannot come back.",
             description="Change a volume's snapshot retention (days) or turn daily backups on or off.",
             result="item", noun="volume", state_read="fly_get_volume",
             shows=("id", "name", "snapshot_retention", "auto_backup_enabled", "size_gb", "region"),
             consequence="Lowering the snapshot retention can delete older snapshots for good; "
             "turning daily backups off leaves no new restore points."),
    Endpoint(name="fly_list_regions", group="platform", operation_id="Platform_regions_get",
             method="GET", path="/platform/regions", args_model=p.NoArgs,
             risk=R, scopes=_READ, idempotent=True, target_kind="platform",
             untrusted=src.NONE,
             tier_reason="It only reads Fly's list of regions.",
             description="List Fly's regions with code, name, area and whether they need a paid plan.",
             result="items", noun="region", rows_at="regions",
             shows=("code", "name", "geo_region", "requires_paid_plan", "deprecated")),
    Endpoint(name="fly_get_placements", group="platform", operation_id="Platform_placements_post",
             method="POST", path="/platform/placements", args_model=p.PlacementsArgs,
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only simulates placing machines; nothing is created or reserved.",
             description="Simulate where N machines of a size would be placed, per region, before creating.",
             result="items", noun="placement", rows_at="regions",
             shows=("region", "count", "concurrency")),
    Endpoint(name="fly_list_org_machines", group="platform", operation_id="Machines_org_list",
             method="GET", path="/orgs/{org_slug}/machines", args_model=p.ListOrgMachinesArgs,
             risk=R, scopes=_ORG_READ, idempotent=True,
             untrusted=src.ORG_MACHINES,
             tier_reason="It only reads the machines of every app in the organization.",
             description="List machines across all apps of an org; filter by state or region, page by cursor.",
             result="items", noun="machine", rows_at="machines",
             shows=("id", "app_name", "name", "state", "region", "updated_at")),
    Endpoint(name="fly_list_org_volumes", group="platform", operation_id="Volumes_org_list",
             method="GET", path="/orgs/{org_slug}/volumes", args_model=p.ListOrgVolumesArgs,
             risk=R, scopes=_ORG_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads the volumes of every app in the organization.",
             description="List volumes across all apps of an org; filter by state or region, page by cursor.",
             result="items", noun="volume", rows_at="volumes",
             shows=("id", "app_name", "name", "state", "region", "size_gb", "attached_machine_id")),
    Endpoint(name="fly_create_deploy_token", group="credentials", operation_id="App_create_deploy_token",
             method="POST", path="/apps/{app_name}/deploy_token", args_model=p.CreateDeployTokenArgs,
             risk=DE, scopes=_ALL, idempotent=False, hidden=_MINTED,
             untrusted=src.NONE,
             tier_reason="It mints a credential with full control of the app, which this API cannot revoke.",
             description="Mint a deploy token for one app. The token is withheld: only a human can see it.",
             result="item", noun="deploy token", shows=("token",), state_read="fly_get_app",
             consequence="A new credential with full control of this app exists until it expires; "
             "revoking it needs flyctl or the dashboard."),
    Endpoint(name="fly_request_kms_token", group="credentials", operation_id="Tokens_request_Kms",
             method="POST", path="/tokens/kms", args_model=p.NoArgs,
             risk=DE, scopes=_ALL, idempotent=False, hidden=_MINTED, flow="text_token",
             untrusted=src.NONE,
             tier_reason="It mints a credential for Fly's KMS, which cannot be recalled once issued.",
             description="Mint a token for Fly's KMS (Petsem). The token is withheld: only a human sees it.",
             result="item", noun="KMS token", shows=("token",),
             consequence="A new credential for this organization's KMS keys exists until it "
             "expires; it cannot be recalled."),
    Endpoint(name="fly_get_current_token", group="credentials", operation_id="CurrentToken_show",
             method="GET", path="/tokens/current", args_model=p.NoArgs,
             risk=R, scopes=_SELF, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads which organization and apps this client's token reaches.",
             description="Show which organization and apps this toolkit's own token reaches.",
             result="items", noun="token", rows_at="tokens",
             shows=("token_id", "org_slug", "organization", "apps", "user", "restricted_to_machine")),
    Endpoint(name="fly_authorize_token", group="credentials", operation_id="Tokens_authorize",
             method="POST", path="/tokens/authorize", args_model=p.AuthorizeTokenArgs,
             risk=R, scopes=_SELF, idempotent=True, flow="own_token", hidden=_TOKEN_MATERIAL,
             untrusted=src.NONE,
             tier_reason="It only asks Fly whether this client's own token grants an access.",
             description="Check whether this toolkit's own token grants an access (e.g. 'w' on an app).",
             result="item", noun="access granted", shows=("access", "verified_token.caveats"),
             advice={403: "This token does not grant that access: ask for a token that does."}),
    Endpoint(name="fly_authenticate_token", group="credentials", operation_id="Tokens_authenticate",
             method="POST", path="/tokens/authenticate", args_model=p.OwnTokenArgs,
             risk=R, scopes=_SELF, idempotent=True, flow="own_token", hidden=_TOKEN_MATERIAL,
             untrusted=src.NONE,
             tier_reason="It only asks Fly to verify this client's own token and list its caveats.",
             description="Verify this toolkit's own token and list its caveats (org, apps, allowed actions).",
             result="items", noun="verified token", rows_at=None, shows=("caveats",)),
)
# fmt: on
