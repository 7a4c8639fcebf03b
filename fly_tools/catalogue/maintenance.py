"""Catalogue records: cordoning a machine, its memory limit, and its metadata (opt-in groups)."""

from __future__ import annotations

from fly_tools.catalogue import sources as src
from fly_tools.catalogue.access import Need
from fly_tools.catalogue.record import Endpoint, Phrase
from fly_tools.models import maintenance as mt
from fly_tools.models.base import LeasedMachineArgs, MachineArgs
from fly_tools.risk import RiskTier, Scope

_ALL: frozenset[Scope] = frozenset({"org", "deploy"})
_READ: frozenset[Scope] = frozenset({"org", "deploy", "readonly"})
R, W, DI = RiskTier.READ, RiskTier.WRITE, RiskTier.DISRUPTIVE
M = "/apps/{app_name}/machines/{machine_id}"
_MEMORY = ("limit_mb", "available_mb")
# Every metadata change can touch the keys Fly and flyctl manage machines by, so all
# three share one tier and one consequence.
_METADATA_REASON = (
    "Changing the keys Fly manages machines by (process group, platform version) takes "
    "the machine out of flyctl's deploys and scaling until they are set back."
)
# Said to the approver in plain words (approval text carries no "fly_" names); the key
# the call touches follows in the description as the agent's argument.
_METADATA_COST = (
    "Fly and flyctl manage machines by their process-group and platform-version keys: "
    "changing or removing those can take it out of deploys and scaling."
)

# fmt: off
RECORDS: tuple[Endpoint, ...] = (
    Endpoint(name="fly_cordon_machine", group="maintenance", operation_id="Machines_cordon",
             phrase=Phrase(ask="cordon {target}", done="cordoned {target}",
                           then="Fly's proxy sends it no traffic until fly_uncordon_machine."),
             method="POST", path=M + "/cordon", args_model=LeasedMachineArgs,
             access=Need("machine", "C"),
             risk=DI, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="Fly's proxy stops sending it requests until it is uncordoned; it keeps running and loses nothing.",
             description="Take a machine out of Fly's proxy rotation (it keeps running), e.g. before maintenance.",
             state_read="fly_get_machine",
             consequence="Fly's proxy stops routing requests to it until it is uncordoned; "
             "it keeps running."),
    Endpoint(name="fly_uncordon_machine", group="maintenance", operation_id="Machines_uncordon",
             phrase=Phrase(ask="uncordon {target}", done="uncordoned {target}",
                           then="Fly's proxy routes traffic to it again."),
             method="POST", path=M + "/uncordon", args_model=LeasedMachineArgs,
             access=Need("machine", "C"),
             risk=DI, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="Fly's proxy sends it live traffic at once, the cut-over step of flyctl's "
             "blue-green deploy (strategy_bluegreen.go:627-642); a cordon undoes it.",
             description="Put a cordoned machine back into Fly's proxy rotation so it receives requests again.",
             state_read="fly_get_machine",
             consequence="Fly's proxy starts routing live requests to it at once; if it is not "
             "ready, users get its errors until it is cordoned again."),
    Endpoint(name="fly_get_machine_memory", group="maintenance", operation_id="Machines_get_memory",
             phrase=Phrase(ask="read the memory of {target}", done="read the memory of {target}"),
             method="GET", path=M + "/memory", args_model=MachineArgs,
             access=Need("machine", "r"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.NONE,
             tier_reason="It only reads a started machine's memory limit.",
             description="Show a started machine's current memory limit and how much of it is free, in MB.",
             result="item", noun="memory", shows=_MEMORY),
    Endpoint(name="fly_set_machine_memory_limit", group="maintenance",
             phrase=Phrase(ask="set the memory limit of {target}", done="set the memory limit of {target}"),
             operation_id="Machines_set_memory_limit",
             method="PUT", path=M + "/memory", args_model=mt.MemoryLimitArgs,
             access=Need("machine", "w"),
             risk=DI, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason="Fly applies it with the balloon device at once (spec "
             "Machines_set_memory_limit); below what the guest uses, its processes run short.",
             description="Set a started machine's memory limit in MB (balloon), without a restart.",
             result="item", noun="memory limit", shows=_MEMORY, state_read="fly_get_machine",
             consequence="Fly shrinks the memory the machine may use at once (its balloon "
             "device); if the limit is below what its processes use, they run short of memory "
             "and may fail. Fly documents nothing more precise."),
    Endpoint(name="fly_reclaim_machine_memory", group="maintenance",
             phrase=Phrase(ask="reclaim memory from {target}", done="reclaimed memory from {target}"),
             operation_id="Machines_reclaim_memory",
             method="POST", path=M + "/memory/reclaim", args_model=mt.ReclaimMemoryArgs,
             access=Need("machine", "w"),
             risk=W, scopes=_ALL, idempotent=False,
             untrusted=src.NONE,
             tier_reason="The balloon takes back only memory the guest is not using; nothing is interrupted.",
             description="Have a started machine hand unused memory back to the host (balloon reclaim).",
             result="item", noun="memory", shows=("actual_mb",), state_read="fly_get_machine"),
    Endpoint(name="fly_get_machine_metadata", group="metadata", operation_id="Machines_show_metadata",
             phrase=Phrase(ask="read the metadata of {target}", done="read the metadata of {target}"),
             method="GET", path=M + "/metadata", args_model=MachineArgs,
             access=Need("machine", "r", "machinesapi", feature="metadata"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.METADATA,
             tier_reason="It only reads the machine's metadata.",
             description="Show all of a machine's metadata keys and values (labels such as its process group).",
             result="item", noun="metadata"),
    Endpoint(name="fly_update_machine_metadata", group="metadata",
             phrase=Phrase(ask="replace the metadata of {target}", done="replaced the metadata of {target}"),
             operation_id="Machines_update_metadata",
             method="PATCH", path=M + "/metadata", args_model=mt.UpdateMetadataArgs,
             access=Need("machine", "w", "machinesapi", feature="metadata"),
             risk=DI, scopes=_ALL, idempotent=True,
             untrusted=src.METADATA,
             tier_reason=_METADATA_REASON,
             description="Set or remove several metadata keys of a machine at once (null removes a key).",
             result="item", noun="metadata", state_read="fly_get_machine",
             consequence=_METADATA_COST,
             advice={412: "The machine has moved to another version: read it (fly_get_machine) "
                     "and send its current version as machine_version, or leave it out."}),
    Endpoint(name="fly_get_machine_metadata_key", group="metadata",
             phrase=Phrase(ask="read a metadata key of {target}", done="read a metadata key of {target}"),
             operation_id="Machines_get_metadata_key",
             method="GET", path=M + "/metadata/{key}", args_model=mt.MetadataKeyArgs,
             access=Need("machine", "r", "machinesapi", feature="metadata"),
             risk=R, scopes=_READ, idempotent=True,
             untrusted=src.METADATA_VALUE,
             tier_reason="It only reads one metadata value.",
             description="Show the value of one metadata key of a machine.",
             result="item", noun="metadata value", shows=("value",),
             advice={404: "The machine has no such metadata key (or the machine does not exist); "
                     "fly_get_machine_metadata lists its keys."}),
    Endpoint(name="fly_set_machine_metadata_key", group="metadata",
             phrase=Phrase(ask="set a metadata key on {target}", done="set a metadata key on {target}"),
             operation_id="Machines_upsert_metadata",
             method="POST", path=M + "/metadata/{key}", args_model=mt.SetMetadataKeyArgs,
             access=Need("machine", "w", "machinesapi", feature="metadata"),
             risk=DI, scopes=_ALL, idempotent=True,
             untrusted=src.METADATA,
             tier_reason=_METADATA_REASON,
             description="Set one metadata key of a machine to a value, adding or replacing it.",
             result="item", noun="metadata key", state_read="fly_get_machine",
             consequence=_METADATA_COST),
    Endpoint(name="fly_delete_machine_metadata_key", group="metadata",
             phrase=Phrase(ask="delete a metadata key of {target}", done="deleted a metadata key of {target}"),
             operation_id="Machines_delete_metadata",
             method="DELETE", path=M + "/metadata/{key}", args_model=mt.MetadataKeyArgs,
             access=Need("machine", "w", "machinesapi", feature="metadata"),
             risk=DI, scopes=_ALL, idempotent=True,
             untrusted=src.NONE,
             tier_reason=_METADATA_REASON,
             description="Remove one metadata key from a machine.",
             result="item", noun="metadata key", state_read="fly_get_machine",
             consequence=_METADATA_COST),
)
# fmt: on
