"""Fly's caveats that wrap or pass through others: Commands, IfPresent, IsUser, unknown ones.

``IfPresent`` (``resset/if_present.go``) checks its inner caveats only where the access
names their resource; ``Commands`` (``flyio/caveats.go``) allows exec of listed argv
prefixes; a caveat this package does not read is kept as its bytes and refuses all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgpack  # type: ignore[import-untyped]

from fly_tools.macaroons.caveats import (
    COMMANDS,
    IF_PRESENT,
    IS_USER,
    Access,
    Caveat,
    Denial,
    action_denial,
    array_header,
    mask_letters,
    pack,
    pack_set,
    unspecified,
)


@dataclass(frozen=True)
class Command:
    """One allowed argv prefix (``exact``: the whole argv)."""

    args: tuple[str, ...]
    exact: bool = False

    def allows(self, argv: Sequence[str]) -> bool:
        """Whether ``argv`` starts with (or, if exact, is) these args."""
        if len(self.args) > len(argv) or (self.exact and len(self.args) != len(argv)):
            return False
        return tuple(argv[: len(self.args)]) == self.args


@dataclass(frozen=True)
class Commands(Caveat):
    """Only exec, and only these commands (an empty list allows none)."""

    TYPE: ClassVar[int] = COMMANDS
    NAME: ClassVar[str] = "Commands"
    commands: tuple[Command, ...] = ()

    def body(self) -> Any:
        return [[list(c.args), c.exact] for c in self.commands]

    def json_body(self) -> Any:
        return [
            {"args": list(c.args)} | ({"exact": True} if c.exact else {}) for c in self.commands
        ]

    def prohibits(self, access: Access) -> Denial | None:
        if access.command is None:
            return unspecified("command execution")
        if any(c.allows(access.command) for c in self.commands):
            return None
        return Denial(f"unauthorized for commands {list(access.command)}")


@dataclass(frozen=True)
class IfPresent(Caveat):
    """The ``ifs`` where the access names their resource; else only ``otherwise``."""

    TYPE: ClassVar[int] = IF_PRESENT
    NAME: ClassVar[str] = "IfPresent"
    ifs: tuple[Caveat, ...]
    otherwise: int

    def body(self) -> Any:
        raise NotImplementedError("IfPresent packs its nested caveats itself")

    def packed_body(self) -> bytes:
        return array_header(2) + pack_set(self.ifs) + pack(self.otherwise)

    def json_body(self) -> Any:
        return {"ifs": [c.to_json() for c in self.ifs], "else": mask_letters(self.otherwise)}

    def prohibits(self, access: Access) -> Denial | None:
        relevant = [d for d in (c.prohibits(access) for c in self.ifs) if not (d and d.unspecified)]
        denials = [d for d in relevant if d is not None]
        if denials:
            return denials[0]
        if relevant:
            return None
        return action_denial(access.action, self.otherwise)


@dataclass(frozen=True)
class IsUser(Caveat):
    """Names the user a token was issued to; forbids nothing (``flyio.IsUser``)."""

    TYPE: ClassVar[int] = IS_USER
    NAME: ClassVar[str] = "IsUser"
    id: int

    def body(self) -> Any:
        return [self.id]

    def json_body(self) -> Any:
        return {"uint64": self.id}

    def prohibits(self, access: Access) -> Denial | None:
        return None


@dataclass(frozen=True)
class Unknown(Caveat):
    """A caveat this module does not read: kept byte for byte; it forbids everything."""

    caveat_type: int
    raw: bytes = field(repr=False)

    @property
    def type(self) -> int:
        return self.caveat_type

    def body(self) -> Any:
        raise NotImplementedError("an unknown caveat is only ever its raw bytes")

    def packed_body(self) -> bytes:
        return self.raw

    def to_json(self) -> dict[str, Any]:
        return {"type": str(self.caveat_type), "body": _jsonable(self.raw)}

    def json_body(self) -> Any:
        return _jsonable(self.raw)

    def prohibits(self, access: Access) -> Denial | None:
        return Denial("unauthorized: bad caveat (unregistered)")


def _jsonable(raw: bytes) -> Any:
    try:
        value = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception:
        return None
    return value if isinstance(value, (int, str, list, dict, bool)) or value is None else None
