"""Fly's caveats as typed values: their msgpack bodies, their JSON, and what each forbids.

Type numbers and bodies follow superfly/macaroon: ``caveat.go`` (the ``CaveatType``
numbers), ``flyio/caveats.go`` (Organization, Apps, Volumes, Machines, feature sets,
Commands), ``caveats.go`` (ValidityWindow) and ``resset/`` (Action, IfPresent, resource
sets). Structs are msgpack arrays of their fields in order; a resource set is a map
with sorted keys. A caveat this module does not know is kept as its raw bytes and, as
in Go (``UnregisteredCaveat.Prohibits``), forbids everything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgpack  # type: ignore[import-untyped]

READ, WRITE, CREATE, DELETE, CONTROL = 1, 2, 4, 8, 16
ALL = READ | WRITE | CREATE | DELETE | CONTROL
LETTERS = "rwcdC"
"""The action bits 1, 2, 4, 8, 16 as Fly's JSON spells them (``resset/action.go``)."""

ORGANIZATION, VOLUMES, APPS, VALIDITY_WINDOW, FEATURE_SET = 0, 2, 3, 4, 5
MACHINES, IS_USER, THIRD_PARTY, IF_PRESENT, MACHINE_FEATURE_SET = 7, 10, 11, 13, 14
ACTION, COMMANDS, APP_FEATURE_SET = 26, 27, 28


def mask_letters(mask: int) -> str:
    """``0b10011`` -> ``"rwC"``, as ``resset.Action.String`` writes it."""
    return "".join(c for i, c in enumerate(LETTERS) if mask & (1 << i))


def parse_mask(letters: str) -> int:
    """``"rw"`` -> 3; ``"*"`` is every action. Unknown letters raise ``ValueError``."""
    if letters == "*":
        return ALL
    if not set(letters) <= set(LETTERS):
        raise ValueError(f"an action mask is letters of {LETTERS!r}, e.g. 'rw'")
    return sum(1 << LETTERS.index(c) for c in set(letters))


@dataclass(frozen=True)
class Access:
    """One attempted access, as Fly checks it against caveats (``flyio.Access``).

    Attributes:
        action: the action bits asked for.
        org_id: the org's numeric id.
        app_id: the app's numeric id, for app-owned resources.
        machine: a machine id; volume: a volume id.
        command: the argv of an exec, if it is one.
        machine_feature / app_feature / feature: named features (``metadata``, ...).
        now: the time of the access (seconds since the epoch).
    """

    action: int
    org_id: int | None = None
    app_id: int | None = None
    machine: str | None = None
    volume: str | None = None
    command: tuple[str, ...] | None = None
    machine_feature: str | None = None
    app_feature: str | None = None
    feature: str | None = None
    now: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Denial:
    """Why a caveat forbids an access, in Fly's words; ``unspecified`` when it asks
    about a resource the access does not name (what ``IfPresent`` skips)."""

    message: str
    unspecified: bool = False


def unspecified(what: str) -> Denial:
    return Denial(f"unauthorized: bad data for token verification: must specify {what}", True)


def action_denial(asked: int, allowed: int, on: str = "") -> Denial | None:
    if asked & allowed == asked:
        return None
    where = f" on {on}" if on else ""
    missing = mask_letters(asked & ~allowed)
    return Denial(f"unauthorized for access {mask_letters(asked)}{where} ({missing} not allowed)")


class Caveat:
    """A caveat: its type number, its msgpack body, its JSON and its check."""

    TYPE: ClassVar[int] = -1
    NAME: ClassVar[str] = ""

    @property
    def type(self) -> int:
        """The caveat type number."""
        return self.TYPE

    def body(self) -> Any:
        """The msgpack-ready body."""
        raise NotImplementedError

    def packed_body(self) -> bytes:
        """The body's msgpack bytes, as Go's encoder writes them."""
        return pack(self.body())

    def to_json(self) -> dict[str, Any]:
        """``{"type": name, "body": ...}`` as ``flyctl tokens debug`` shows it."""
        return {"type": self.NAME, "body": self.json_body()}

    def json_body(self) -> Any:
        """The body in Fly's JSON form."""
        raise NotImplementedError

    def prohibits(self, access: Access) -> Denial | None:
        """Why this caveat forbids ``access``, or ``None`` if it allows it."""
        raise NotImplementedError


def _resource_set(entries: Mapping[Any, int]) -> dict[Any, int]:
    return {k: entries[k] for k in sorted(entries)}


def _set_denial(entries: Mapping[Any, int], rid: Any, asked: int, kind: str) -> Denial | None:
    """``resset.ResourceSet.Prohibits``: the zero id matches every id."""
    zero: Any = 0 if kind == "app" else ""
    if zero in entries and len(entries) != 1:
        return Denial("unauthorized: bad caveat: cannot specify zero ID along with other IDs")
    if rid is None:
        return unspecified(kind)
    matched = [mask for key, mask in entries.items() if key in (zero, rid)]
    if not matched:
        only = " ".join(str(k) for k in entries)
        return Denial(f"unauthorized for {kind} {rid} (only [{only}])")
    perm = ALL
    for mask in matched:
        perm &= mask
    return action_denial(asked, perm, kind)


@dataclass(frozen=True)
class Organization(Caveat):
    """Only this org (numeric id; 0 is any), only these actions."""

    TYPE: ClassVar[int] = ORGANIZATION
    NAME: ClassVar[str] = "Organization"
    id: int
    mask: int

    def body(self) -> Any:
        return [self.id, self.mask]

    def json_body(self) -> Any:
        return {"id": self.id, "mask": mask_letters(self.mask)}

    def prohibits(self, access: Access) -> Denial | None:
        if access.org_id is None:
            return unspecified("org")
        if self.id not in (0, access.org_id):
            return Denial(f"unauthorized for org {access.org_id}, only {self.id}")
        return action_denial(access.action, self.mask)


@dataclass(frozen=True)
class _ResourceSetCaveat(Caveat):
    entries: Mapping[Any, int]
    KEY: ClassVar[str] = ""
    KIND: ClassVar[str] = ""

    def body(self) -> Any:
        return [_resource_set(self.entries)]

    def json_body(self) -> Any:
        return {self.KEY: {str(k): mask_letters(v) for k, v in _resource_set(self.entries).items()}}

    def prohibits(self, access: Access) -> Denial | None:
        return _set_denial(self.entries, self._id(access), access.action, self.KIND)

    def _id(self, access: Access) -> Any:
        raise NotImplementedError


class Apps(_ResourceSetCaveat):
    """Only these apps (internal numeric id -> actions)."""

    TYPE, NAME, KEY, KIND = APPS, "Apps", "apps", "app"

    def _id(self, access: Access) -> Any:
        return access.app_id


class Volumes(_ResourceSetCaveat):
    """Only these volumes (id -> actions)."""

    TYPE, NAME, KEY, KIND = VOLUMES, "Volumes", "volumes", "volume"

    def _id(self, access: Access) -> Any:
        return access.volume


class Machines(_ResourceSetCaveat):
    """Only these machines (id -> actions)."""

    TYPE, NAME, KEY, KIND = MACHINES, "Machines", "machines", "machine"

    def _id(self, access: Access) -> Any:
        return access.machine


class FeatureSet(_ResourceSetCaveat):
    """Only these org features."""

    TYPE, NAME, KEY, KIND = FEATURE_SET, "FeatureSet", "features", "org feature"

    def _id(self, access: Access) -> Any:
        return access.feature


class MachineFeatureSet(_ResourceSetCaveat):
    """Only these machine features (``metadata``, ``oidc``)."""

    TYPE, NAME, KEY, KIND = MACHINE_FEATURE_SET, "MachineFeatureSet", "features", "machine feature"

    def _id(self, access: Access) -> Any:
        return access.machine_feature


class AppFeatureSet(_ResourceSetCaveat):
    """Only these app features (``images``)."""

    TYPE, NAME, KEY, KIND = APP_FEATURE_SET, "AppFeatureSet", "features", "app feature"

    def _id(self, access: Access) -> Any:
        return access.app_feature


@dataclass(frozen=True)
class Action(Caveat):
    """Only these actions, on anything."""

    TYPE: ClassVar[int] = ACTION
    NAME: ClassVar[str] = "Action"
    mask: int

    def body(self) -> Any:
        return self.mask

    def json_body(self) -> Any:
        return mask_letters(self.mask)

    def prohibits(self, access: Access) -> Denial | None:
        return action_denial(access.action, self.mask)


@dataclass(frozen=True)
class ValidityWindow(Caveat):
    """Only between these two Unix times."""

    TYPE: ClassVar[int] = VALIDITY_WINDOW
    NAME: ClassVar[str] = "ValidityWindow"
    not_before: int
    not_after: int

    def body(self) -> Any:
        return [self.not_before, self.not_after]

    def json_body(self) -> Any:
        return {"not_before": self.not_before, "not_after": self.not_after}

    def prohibits(self, access: Access) -> Denial | None:
        if access.now > self.not_after:
            return Denial(f"unauthorized: token only valid until {_when(self.not_after)}")
        if access.now < self.not_before:
            return Denial(f"unauthorized: token not valid until {_when(self.not_before)}")
        return None


def _when(at: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(at))


def pack(value: Any) -> bytes:
    return bytes(msgpack.packb(value, use_bin_type=True))


def array_header(n: int) -> bytes:
    return bytes(msgpack.Packer().pack_array_header(n))


def pack_set(caveats: Sequence[Caveat]) -> bytes:
    """A caveat set's msgpack: one flat array ``[type, body, type, body, ...]``
    (``caveat_set.go``, ``CaveatSet.EncodeMsgpack``)."""
    return array_header(2 * len(caveats)) + b"".join(
        pack(c.type) + c.packed_body() for c in caveats
    )
