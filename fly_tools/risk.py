"""Risk tiers, token scopes and capability groups: the vocabularies every other layer speaks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal, get_args


class RiskTier(IntEnum):
    """Worst plausible outcome of one call, ordered ``READ < WRITE < DISRUPTIVE < DESTRUCTIVE``.

    Attributes:
        READ: changes nothing.
        WRITE: creates or changes something, undoable, no downtime.
        DISRUPTIVE: interrupts running work, but loses nothing.
        DESTRUCTIVE: irreversible: data, resources or credentials are lost, or arbitrary
            code runs.
    """

    READ = 0
    WRITE = 1
    DISRUPTIVE = 2
    DESTRUCTIVE = 3

    @classmethod
    def parse(cls, value: RiskTier | str | int) -> RiskTier:
        """Accept a tier, its name in any case (``"destructive"``) or its number."""
        if isinstance(value, RiskTier):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(t.name.lower() for t in cls)
            raise ValueError(f"unknown risk tier {value!r}; use one of: {names}") from None

    @property
    def label(self) -> str:
        """Lower-case name, as shown in tables and audit records."""
        return self.name.lower()


Scope = Literal["org", "deploy", "readonly", "machine-exec"]
"""A Fly token scope. ``deploy`` is Fly's app-scoped token (``fly tokens create deploy``)."""

SCOPES: tuple[Scope, ...] = get_args(Scope)

Group = Literal[
    "apps",
    "machines",
    "control",
    "info",
    "leases",
    "volumes",
    "secrets",
    "tokens",
    "certificates",
    "network",
    "maintenance",
    "metadata",
    "secretkeys",
    "secret_values",
    "snapshots",
    "platform",
    "credentials",
]
"""The name of a capability group of the catalogue; its facts are its :class:`GroupRecord`."""


@dataclass(frozen=True)
class GroupRecord:
    """One capability group: whether a toolkit offers it unasked, and what it holds.

    Attributes:
        name: the name ``groups=``, policies and each endpoint record use.
        default: whether a toolkit that names no groups offers it (the guide's groups);
            the others are opted into with ``groups=``, ``include=`` or a policy.
        sentence: what the group's tools do, in a few words, as the README's groups
            table says it.
    """

    name: Group
    default: bool
    sentence: str


GROUP_RECORDS: tuple[GroupRecord, ...] = (
    GroupRecord("apps", default=True, sentence="list, read, create and delete apps"),
    GroupRecord(
        "machines", default=True, sentence="list, read, create, update and destroy machines"
    ),
    GroupRecord(
        "control",
        default=True,
        sentence="start, stop, restart, suspend and signal a machine, run a command in it, wait for it",
    ),
    GroupRecord("info", default=True, sentence="a machine's processes, events and config versions"),
    GroupRecord("leases", default=True, sentence="take, read and release a machine's lease"),
    GroupRecord("volumes", default=True, sentence="list, read, create, extend and delete volumes"),
    GroupRecord(
        "secrets",
        default=True,
        sentence="list, set and delete an app's secrets (names and digests, never values)",
    ),
    GroupRecord("tokens", default=True, sentence="short-lived OIDC tokens for a cloud provider"),
    GroupRecord(
        "certificates",
        default=False,
        sentence="an app's TLS certificates: issued by Fly or uploaded",
    ),
    GroupRecord("network", default=False, sentence="an app's public IP addresses"),
    GroupRecord(
        "maintenance",
        default=False,
        sentence="take a machine out of rotation and back, and set its memory",
    ),
    GroupRecord("metadata", default=False, sentence="read and change a machine's metadata"),
    GroupRecord(
        "secretkeys",
        default=False,
        sentence="an app's secret keys (Fly's KMS), and signing and encrypting with them",
    ),
    GroupRecord(
        "secret_values",
        default=False,
        sentence="one secret's digest and dates, and setting several secrets at once",
    ),
    GroupRecord("snapshots", default=False, sentence="volume snapshots and their retention"),
    GroupRecord(
        "platform",
        default=False,
        sentence="Fly's regions and placements, and the whole org's machines and volumes",
    ),
    GroupRecord(
        "credentials",
        default=False,
        sentence="mint tokens (withheld from the model), and check the toolkit's own token",
    ),
)
"""Every group, in catalogue order: the one place a group's facts are written."""

GROUP_OF: Mapping[Group, GroupRecord] = {g.name: g for g in GROUP_RECORDS}
"""Each group's record, by name."""

GROUPS: tuple[Group, ...] = tuple(g.name for g in GROUP_RECORDS)
"""Every group's name, in catalogue order (the same names as :data:`Group`)."""

DEFAULT_GROUPS: tuple[Group, ...] = tuple(g.name for g in GROUP_RECORDS if g.default)
"""What a toolkit offers when it names no groups; the others are opted into."""


def parse_scope(value: str) -> Scope:
    """Return ``value`` as a :data:`Scope`, or raise a ``ValueError`` listing the valid ones."""
    for scope in SCOPES:
        if value == scope:
            return scope
    raise ValueError(f"unknown token scope {value!r}; use one of: {', '.join(SCOPES)}")
