"""Reading caveat sets from msgpack, keeping each caveat's bytes as they came."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]

from fly_tools.macaroons.caveats import (
    ACTION,
    APP_FEATURE_SET,
    APPS,
    COMMANDS,
    FEATURE_SET,
    IF_PRESENT,
    IS_USER,
    MACHINE_FEATURE_SET,
    MACHINES,
    ORGANIZATION,
    VALIDITY_WINDOW,
    VOLUMES,
    Action,
    AppFeatureSet,
    Apps,
    Caveat,
    FeatureSet,
    MachineFeatureSet,
    Machines,
    Organization,
    ValidityWindow,
    Volumes,
)
from fly_tools.macaroons.wrappers import Command, Commands, IfPresent, IsUser, Unknown


class MalformedError(ValueError):
    """Bytes that are not a Fly macaroon or caveat set (the bytes are never quoted)."""


def unpacker(data: bytes) -> msgpack.Unpacker:
    """A msgpack reader over ``data`` that can say where it is (``tell``)."""
    reader = msgpack.Unpacker(raw=False, strict_map_key=False, use_list=True)
    reader.feed(data)
    return reader


def read_set(reader: msgpack.Unpacker, data: bytes) -> list[Caveat]:
    """The caveat set at the reader's position; ``data`` is what the reader was fed."""
    try:
        count = reader.read_array_header()
        if count % 2:
            raise MalformedError("a caveat set holds type/body pairs")
        caveats = []
        for _ in range(count // 2):
            kind = reader.unpack()
            start = reader.tell()
            reader.skip()
            if not isinstance(kind, int) or isinstance(kind, bool) or kind < 0:
                raise MalformedError("a caveat type is an unsigned integer")
            caveats.append(typed(kind, data[start : reader.tell()]))
    except (msgpack.OutOfData, msgpack.FormatError, msgpack.StackError, ValueError) as bad:
        if isinstance(bad, MalformedError):
            raise
        raise MalformedError("unreadable caveat set") from None
    return caveats


def decode_set(data: bytes) -> list[Caveat]:
    """A whole msgpack caveat set (e.g. one the Go library encoded)."""
    reader = unpacker(data)
    caveats = read_set(reader, data)
    if reader.tell() != len(data):
        raise MalformedError("bytes left over after the caveat set")
    return caveats


def typed(kind: int, raw: bytes) -> Caveat:
    """The typed caveat for ``kind``, or :class:`Unknown` keeping ``raw`` as it is.

    A known type whose body does not re-encode to the same bytes is kept as
    :class:`Unknown` too, so a token is never changed by reading it.
    """
    build = _BUILDERS.get(kind)
    if build is None:
        return Unknown(kind, raw)
    try:
        if kind == IF_PRESENT:
            caveat = _if_present(raw)
        else:
            caveat = build(msgpack.unpackb(raw, raw=False, strict_map_key=False))
    except (MalformedError, ValueError, TypeError, KeyError, IndexError):
        return Unknown(kind, raw)
    return caveat if caveat.packed_body() == raw else Unknown(kind, raw)


def _if_present(raw: bytes) -> Caveat:
    reader = unpacker(raw)
    if reader.read_array_header() != 2:
        raise MalformedError("IfPresent is [ifs, else]")
    ifs = read_set(reader, raw)
    otherwise = reader.unpack()
    return IfPresent(tuple(ifs), _mask(otherwise))


def _mask(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF:
        raise MalformedError("an action mask is a 16-bit unsigned integer")
    return value


def _entries(body: Any, key_type: type) -> dict[Any, int]:
    (entries,) = body
    if not isinstance(entries, dict) or not all(isinstance(k, key_type) for k in entries):
        raise MalformedError("a resource set maps ids to action masks")
    return {k: _mask(v) for k, v in entries.items()}


def _commands(body: Any) -> Caveat:
    return Commands(
        tuple(Command(tuple(str(a) for a in args), bool(exact)) for args, exact in body)
    )


_BUILDERS: dict[int, Callable[[Any], Caveat]] = {
    ORGANIZATION: lambda b: Organization(int(b[0]), _mask(b[1])),
    APPS: lambda b: Apps(_entries(b, int)),
    VOLUMES: lambda b: Volumes(_entries(b, str)),
    MACHINES: lambda b: Machines(_entries(b, str)),
    FEATURE_SET: lambda b: FeatureSet(_entries(b, str)),
    MACHINE_FEATURE_SET: lambda b: MachineFeatureSet(_entries(b, str)),
    APP_FEATURE_SET: lambda b: AppFeatureSet(_entries(b, str)),
    VALIDITY_WINDOW: lambda b: ValidityWindow(int(b[0]), int(b[1])),
    ACTION: lambda b: Action(_mask(b)),
    COMMANDS: _commands,
    IF_PRESENT: lambda b: Unknown(IF_PRESENT, b""),  # read by _if_present
    IS_USER: lambda b: IsUser(int(b[0])),
}
