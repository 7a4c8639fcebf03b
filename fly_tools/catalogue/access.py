"""What each endpoint asks of a Fly token: the resource it names and the action bits.

Fly checks every request against the token's caveats as an *access*: an org, maybe an
app, maybe a machine or volume (or a command, or a named feature), and the actions
asked (``r`` read, ``w`` write, ``c`` create, ``d`` delete, ``C`` control). Which
access each Machines API endpoint asks is not published; each record says where its
reading comes from (:data:`SOURCES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Resource = Literal["org", "app", "machine", "volume", "token"]
"""The most specific resource an access names. ``token``: the call only needs a valid
token (Fly's token endpoints and platform-wide reads); resource caveats do not apply."""
Source = Literal["machinesapi", "resset", "reading"]

SOURCES: dict[Source, str] = {
    "machinesapi": "superfly/macaroon flyio/machinesapi/machinesapi.go, type Access "
    "(lines 88-176): the resource hierarchy Org > App > Volume | Machine > MachineFeature "
    "| Command, machine features 'metadata' and 'oidc'; tokens/authorize and "
    "tokens/authenticate verify a token.",
    "resset": "superfly/macaroon resset/action.go: Control is 'starting/stopping/signaling "
    "machines'; Create 'inherited from a parent' (org:create creates an app).",
    "reading": "this package's reading: Fly does not publish which access an endpoint "
    "asks; check it on live Fly with `fly-tools token check`.",
}
"""Where each record's access comes from."""

_LETTERS = "rwcdC"


@dataclass(frozen=True)
class Need:
    """The access an endpoint asks of the token.

    Attributes:
        resource: the most specific resource named (:data:`Resource`).
        action: letters of ``rwcdC``; empty when the call only verifies the token.
        source: where this reading comes from (a key of :data:`SOURCES`).
        feature: the machine feature the access names (``metadata``), if any.
    """

    resource: Resource
    action: str
    source: Source = "reading"
    feature: str | None = None

    def __post_init__(self) -> None:
        if not set(self.action) <= set(_LETTERS) or len(set(self.action)) != len(self.action):
            raise ValueError(f"an access action is distinct letters of {_LETTERS!r}")

    @property
    def bits(self) -> int:
        """The action as Fly's bitmask (``r`` = 1 ... ``C`` = 16)."""
        return sum(1 << _LETTERS.index(c) for c in self.action)
