"""Argument models of the machine maintenance endpoints (cordon, memory) and machine metadata."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from fly_tools.models.base import MachineArgs
from fly_tools.models.fields import Int
from fly_tools.models.identifiers import VersionId, identifier_rule

METADATA_KEY_MAX = 256
"""The longest metadata key sent (a bound of this package; Fly documents none)."""
METADATA_VALUE_MAX = 4096
"""The longest metadata value sent (a bound of this package; Fly documents none)."""
MEMORY_MB_MAX = 16 * 8192
"""The most memory a Fly guest has: 16 performance CPUs with 8 GB each."""

# Fly's rule for keys: letters, digits, '_', '-' and '.'. A key is a path segment, so a
# leading dot ('.', '..') or a '..' inside could make a URL normaliser walk up the path.
MetadataKey = Annotated[
    str,
    identifier_rule(
        "metadata key",
        r"(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9_.-]*",
        f"letters, digits, '_', '-' or '.' (not starting with '.', no '..', at most "
        f"{METADATA_KEY_MAX})",
        "role",
        METADATA_KEY_MAX,
    ),
]
"""A machine metadata key, e.g. ``role`` or Fly's own ``fly_process_group``."""
MetadataValue = Annotated[str, Field(max_length=METADATA_VALUE_MAX)]


class MemoryLimitArgs(MachineArgs):
    sends_body = True
    limit_mb: Int = Field(
        ge=1, le=MEMORY_MB_MAX, description="New limit in MB, at most the machine's memory_mb."
    )


class ReclaimMemoryArgs(MachineArgs):
    sends_body = True
    amount_mb: Int = Field(ge=1, le=MEMORY_MB_MAX, description="MB to take back from the guest.")


class MetadataKeyArgs(MachineArgs):
    key: MetadataKey = Field(description="e.g. 'role'.")


class SetMetadataKeyArgs(MetadataKeyArgs):
    sends_body = True
    value: str = Field(min_length=1, max_length=METADATA_VALUE_MAX, description="e.g. 'primary'.")


class UpdateMetadataArgs(MachineArgs):
    sends_body = True
    changes: dict[MetadataKey, MetadataValue | None] = Field(
        min_length=1, description="Keys to set; a null or '' value removes the key."
    )
    machine_version: VersionId | None = Field(
        default=None, description="Refuse if the machine is no longer at this version."
    )

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # Fly's body field is `metadata`, a name LangChain keeps for itself (a tool field
        # so named never reaches the tool): the model calls it `changes`.
        body: dict[str, Any] = {"metadata": self.changes}
        if self.machine_version is not None:
            body["machine_version"] = self.machine_version
        return body


__all__ = [
    "METADATA_KEY_MAX",
    "MemoryLimitArgs",
    "MetadataKey",
    "MetadataKeyArgs",
    "ReclaimMemoryArgs",
    "SetMetadataKeyArgs",
    "UpdateMetadataArgs",
]
