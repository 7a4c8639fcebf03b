"""Risk tiers and token scopes: the two vocabularies every other layer speaks."""

from __future__ import annotations

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
    "apps", "machines", "control", "info", "leases", "volumes", "secrets", "tokens",
    "certificates", "network", "maintenance", "metadata", "secretkeys", "secret_values",
    "snapshots", "platform", "credentials",
]  # fmt: skip
"""The capability groups of the catalogue."""

GROUPS: tuple[Group, ...] = get_args(Group)
DEFAULT_GROUPS: tuple[Group, ...] = GROUPS[:8]
"""The guide's eight groups: what a toolkit offers when it names no groups. The others
(certificates, IP addresses, cordoning and memory, machine metadata, volume snapshots,
secret keys, secret values, platform and org-wide lists, credentials) are opted into."""


def parse_scope(value: str) -> Scope:
    """Return ``value`` as a :data:`Scope`, or raise a ``ValueError`` listing the valid ones."""
    for scope in SCOPES:
        if value == scope:
            return scope
    raise ValueError(f"unknown token scope {value!r}; use one of: {', '.join(SCOPES)}")
