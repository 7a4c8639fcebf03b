"""Fly macaroons on the wire: decode, attenuate, mint and verify ``FlyV1`` headers.

The format is superfly/macaroon's: a token is msgpack ``[nonce, location, caveats,
tail]`` (``macaroon.go``); the nonce is ``[kid, rnd, proof]`` (``nonce.go``); the
caveats are one flat ``[type, body, ...]`` array (``caveat_set.go``). Minting signs the
nonce, ``tail = HMAC-SHA256(key, msgpack(nonce))``; each added caveat moves the tail on,
``tail = HMAC-SHA256(old tail, msgpack([type, body]))`` (``Macaroon.Add``). Anyone can
add caveats; only the key's holder can verify. The header is ``FlyV1`` and
comma-separated ``fm2_<base64>`` tokens (``format.go``); ``fm1r_`` and ``fm1a_`` are
read too, ``fo1_`` tokens are kept but never read. Permission tokens are those whose
location is :data:`FLY` (``flyio/flyio.go``); the others (discharges) pass untouched.

Token bytes never appear in a repr or an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import msgpack  # type: ignore[import-untyped]

from fly_tools.macaroons.caveats import THIRD_PARTY, Caveat, pack_set
from fly_tools.macaroons.codec import MalformedError, decode_set, read_set, unpacker

FLY = "https://api.fly.io/v1"
"""The location of Fly's permission tokens (``flyio.LocationPermission``)."""
_READ_PREFIXES = ("fm1r", "fm1a", "fm2")
_KEPT_PREFIXES = ("fo1",)
_SCHEMES = ("flyv1", "bearer")


class NotAMacaroonError(ValueError):
    """The token is not a Fly macaroon header (e.g. a legacy bearer token)."""


class AttenuationError(ValueError):
    """The header's macaroons cannot take the caveats asked for."""


@dataclass(frozen=True)
class Macaroon:
    """One decoded token. ``repr`` shows the location and caveat types only."""

    nonce: bytes = field(repr=False)
    location: str
    caveats: tuple[Caveat, ...]
    tail: bytes = field(repr=False)

    @property
    def kid(self) -> bytes:
        """The key id from the nonce (how a verifier finds its key)."""
        return bytes(msgpack.unpackb(self.nonce, raw=False)[0])

    @property
    def is_proof(self) -> bool:
        """A finalized discharge (a v1 nonce with ``proof`` set) takes no caveats."""
        fields = msgpack.unpackb(self.nonce, raw=False)
        return len(fields) > 2 and fields[2] is True

    def encode(self) -> bytes:
        """The token's msgpack bytes."""
        return (
            bytes(msgpack.Packer().pack_array_header(4))
            + self.nonce
            + _pack(self.location)
            + pack_set(self.caveats)
            + _pack(self.tail)
        )

    def add(self, *caveats: Caveat) -> Macaroon:
        """This token with ``caveats`` appended (those it already holds are skipped)."""
        if self.is_proof:
            raise AttenuationError("a finalized discharge token cannot take caveats")
        held = {_one(c) for c in self.caveats}
        tail, added = self.tail, list(self.caveats)
        for caveat in caveats:
            if caveat.type == THIRD_PARTY:
                raise AttenuationError("third-party caveats are not added by this package")
            packed = _one(caveat)
            if packed in held:
                continue
            held.add(packed)
            added.append(caveat)
            tail = _sign(tail, packed)
        return replace(self, caveats=tuple(added), tail=tail)

    def verify(self, key: bytes) -> bool:
        """Whether the HMAC chain from ``key`` ends at this token's tail."""
        tail = _sign(key, self.nonce)
        for caveat in self.caveats:
            tail = _sign(tail, _one(caveat))
        return hmac.compare_digest(tail, self.tail)


def decode(data: bytes) -> Macaroon:
    """Read one token's msgpack bytes."""
    reader = unpacker(data)
    try:
        if reader.read_array_header() != 4:
            raise MalformedError("a macaroon is [nonce, location, caveats, tail]")
        start = reader.tell()
        nonce = reader.unpack()
        nonce_raw = data[start : reader.tell()]
        location = reader.unpack()
        caveats = read_set(reader, data)
        tail = reader.unpack()
    except (msgpack.OutOfData, msgpack.FormatError, msgpack.StackError, ValueError) as bad:
        if isinstance(bad, MalformedError):
            raise
        raise MalformedError("unreadable macaroon") from None
    if not (isinstance(nonce, list) and len(nonce) in (2, 3) and isinstance(location, str)):
        raise MalformedError("unreadable macaroon")
    if not isinstance(tail, bytes) or reader.tell() != len(data):
        raise MalformedError("unreadable macaroon")
    return Macaroon(nonce_raw, location, tuple(caveats), tail)


def mint(key: bytes, kid: bytes, caveats: Sequence[Caveat] = (), *, location: str = FLY) -> str:
    """A new token signed with ``key``, as ``fm2_<base64>`` (the fake's tokens are these)."""
    nonce = _pack([kid, secrets.token_bytes(16), False])
    root = Macaroon(nonce, location, (), _sign(key, nonce))
    return _label(root.add(*caveats).encode())


def parse_header(header: str) -> list[tuple[str, Macaroon | None]]:
    """Each token of a header as ``(text, macaroon)``; ``None`` for kept ``fo1_`` tokens.

    Raises:
        NotAMacaroonError: the header holds no token in Fly's macaroon format.
    """
    parts = [p.strip() for p in _strip_scheme(header).split(",")]
    parsed: list[tuple[str, Macaroon | None]] = []
    for part in parts:
        prefix, sep, b64 = part.partition("_")
        if sep and prefix in _KEPT_PREFIXES:
            parsed.append((part, None))
            continue
        if not sep or prefix not in _READ_PREFIXES:
            raise NotAMacaroonError("the token is not a Fly macaroon (fm2_...)")
        try:
            raw = base64.b64decode(b64, validate=True)
            parsed.append((part, decode(raw)))
        except (binascii.Error, MalformedError):
            raise NotAMacaroonError("the token holds an unreadable Fly macaroon") from None
    if not any(m is not None for _, m in parsed):
        raise NotAMacaroonError("the token holds no Fly macaroon")
    return parsed


def permission_tokens(header: str, *, location: str = FLY) -> list[Macaroon]:
    """The header's permission tokens (those at ``location``)."""
    return [m for _, m in parse_header(header) if m is not None and m.location == location]


def attenuate(header: str, caveats: Sequence[Caveat], *, location: str = FLY) -> str:
    """``header`` with ``caveats`` added to each of its permission tokens.

    Discharge tokens (other locations) are kept as they are. The answer is a ``FlyV1``
    header; it can do at most what ``header`` could.

    Raises:
        NotAMacaroonError: not a macaroon header.
        AttenuationError: it holds no permission token for ``location``.
    """
    parsed = parse_header(header)
    if not any(m is not None and m.location == location for _, m in parsed):
        raise AttenuationError("the token holds no permission token to narrow")
    out = [
        _label(m.add(*caveats).encode()) if m is not None and m.location == location else text
        for text, m in parsed
    ]
    return "FlyV1 " + ",".join(out)


def append_encoded(header: str, caveat_msgpack: bytes, *, location: str = FLY) -> str:
    """:func:`attenuate` with caveats given as an encoded caveat set (Go's msgpack)."""
    return attenuate(header, decode_set(caveat_msgpack), location=location)


def _strip_scheme(header: str) -> str:
    text = header.strip()
    scheme, sep, rest = text.partition(" ")
    while sep and scheme.lower() in _SCHEMES:
        text = rest.strip()
        scheme, sep, rest = text.partition(" ")
    return text


def _label(raw: bytes) -> str:
    return "fm2_" + base64.b64encode(raw).decode()


def _one(caveat: Caveat) -> bytes:
    return pack_set([caveat])


def _pack(value: object) -> bytes:
    return bytes(msgpack.packb(value, use_bin_type=True))


def _sign(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()
