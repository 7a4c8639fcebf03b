"""An app's secret keys in the fake (Fly's KMS): key types, sizes, signing and sealing.

Keys go with the app and share its secrets version with its secrets. Signing is real
HMAC (``hs256``/``hs384``/``hs512``; ``nacl_auth`` is NaCl's HMAC-SHA-512-256). The
encrypting types (``xaes256gcm``, ``nacl_secretbox``) use a stand-in authenticated cipher
built from the standard library, so the fake needs no crypto package: a fresh 24-byte
nonce, the plaintext XORed with SHAKE-256(key || nonce), then a 16-byte HMAC-SHA-256 tag
over nonce, associated data and ciphertext. It round-trips and refuses tampering like the
real thing, but it is not Fly's wire format. Generated keys and nonces come from the
fake's seeded ids, so a run repeats exactly. The public-key types (``nacl_box``,
``nacl_sign``, ``es256``) are refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import TypeAdapter

from fly_tools.models.secretkeys import (
    ENCRYPTING_TYPES,
    KEY_SIZES,
    SIGNING_TYPES,
    SecretKeyName,
    SecretKeyType,
)
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import FakeBadRequestError, FakeNotFoundError, require_valid
from fly_tools.testing.ids import IdSource

KNOWN_TYPES: tuple[str, ...] = get_args(SecretKeyType)
PUBLIC_KEY_TYPES = frozenset({"nacl_box", "nacl_sign", "es256"})
_HMAC = {"hs256": hashlib.sha256, "hs384": hashlib.sha384, "hs512": hashlib.sha512}
_GENERATED_SIZE = {"hs256": 32, "hs384": 48, "hs512": 64}
_NONCE, _TAG = 24, 16
_KEY_NAME = TypeAdapter(SecretKeyName)
_USES = {
    "encrypt": ENCRYPTING_TYPES,
    "decrypt": ENCRYPTING_TYPES,
    "sign": SIGNING_TYPES,
    "verify": SIGNING_TYPES,
}
"""What each use of a key needs its type to be."""


@dataclass(eq=False)
class SecretKey:
    """A key in an app's KMS; its material never leaves the fake."""

    name: str
    type: str
    material: bytes = field(repr=False)
    created_at: float
    updated_at: float

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``SecretKey`` (no public half: public-key types are not implemented)."""
        return {
            "name": self.name,
            "type": self.type,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def usable_to(self, verb: str) -> SecretKey:
        """The key itself, if its type can ``verb`` (encrypt, decrypt, sign or verify)."""
        kinds = _USES[verb]
        if self.type not in kinds:
            usable = ", ".join(sorted(kinds - PUBLIC_KEY_TYPES))
            raise FakeBadRequestError(
                f"secret key {self.name} is a {self.type} key, which cannot {verb}; "
                f"use a key of type {usable}"
            )
        return self

    def sign(self, message: bytes) -> bytes:
        """The MAC of ``message`` under this signing key."""
        if self.type == "nacl_auth":  # NaCl crypto_auth: HMAC-SHA-512 cut to 32 bytes
            return hmac.new(self.material, message, hashlib.sha512).digest()[:32]
        return hmac.new(self.material, message, _HMAC[self.type]).digest()

    def verify(self, message: bytes, signature: bytes) -> None:
        """Refuse a ``signature`` this signing key did not make over ``message``."""
        if not hmac.compare_digest(self.sign(message), signature):
            raise FakeBadRequestError("signature verification failed")

    def seal(self, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
        """``plaintext`` encrypted and authenticated with ``associated`` data."""
        body = _stream(self.material, nonce, plaintext)
        return nonce + body + _tag(self.material, nonce, associated, body)

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        """The plaintext of what :meth:`seal` made; a tampered message is refused."""
        nonce, body, tag = sealed[:_NONCE], sealed[_NONCE:-_TAG], sealed[-_TAG:]
        if len(sealed) < _NONCE + _TAG or not hmac.compare_digest(
            tag, _tag(self.material, nonce, associated, body)
        ):
            raise FakeBadRequestError("failed to decrypt: message authentication failed")
        return _stream(self.material, nonce, body)


@dataclass(eq=False)
class SecretKeys:
    """The keys of one app, by name."""

    by_name: dict[str, SecretKey] = field(default_factory=dict)

    def listed(self, types: list[str] | None) -> list[SecretKey]:
        """The keys of the given types (every type when none is given), by name."""
        wanted = set(types or KNOWN_TYPES)
        return [self.by_name[n] for n in sorted(self.by_name) if self.by_name[n].type in wanted]

    def get(self, name: str) -> SecretKey:
        """The key called ``name``."""
        key = self.by_name.get(name)
        if key is None:
            raise FakeNotFoundError(f"secret key {name} not found")
        return key

    def put(self, name: str, key_type: str, material: bytes, now: float) -> SecretKey:
        """Store a key under ``name``, replacing any (which keeps its creation time)."""
        existing = self.by_name.get(name)
        created = existing.created_at if existing else now
        key = self.by_name[name] = SecretKey(name, key_type, material, created, now)
        return key

    def remove(self, name: str) -> None:
        """Delete the key called ``name``."""
        del self.by_name[self.get(name).name]


def checked_type(name: str, key_type: str | None) -> str:
    """``key_type`` for a new key called ``name``, if the fake implements it."""
    require_valid(_KEY_NAME, name)
    if key_type not in KNOWN_TYPES:
        shown = "no type" if key_type is None else f"unknown key type {key_type!r}"
        raise FakeBadRequestError(f"{shown}; use one of: {', '.join(KNOWN_TYPES)}")
    if key_type in PUBLIC_KEY_TYPES:
        raise FakeBadRequestError(
            f"key type {key_type} is not implemented by the fake Fly API (public-key types "
            "nacl_box, nacl_sign and es256 are not); use hs256, nacl_auth or nacl_secretbox"
        )
    return key_type


def checked_material(key_type: str, value: bytes | None) -> bytes:
    """Key bytes given by the caller, of the size the type needs (if it has one)."""
    if not value:
        raise FakeBadRequestError("value is required: the key bytes")
    size = KEY_SIZES.get(key_type)
    if size is not None and len(value) != size:
        raise FakeBadRequestError(f"a {key_type} key is {size} bytes, got {len(value)}")
    return value


def generated_material(key_type: str, ids: IdSource) -> bytes:
    """New key bytes of the size the type needs."""
    return drawn(ids, KEY_SIZES.get(key_type) or _GENERATED_SIZE[key_type])


def new_nonce(ids: IdSource) -> bytes:
    """A fresh nonce for :meth:`SecretKey.seal`."""
    return drawn(ids, _NONCE)


def drawn(ids: IdSource, size: int) -> bytes:
    """``size`` bytes drawn from the fake's seeded ids, not the OS.

    The same seed gives the same keys and ciphertexts, so runs repeat exactly. The fake's
    keys protect nothing real.
    """
    return hashlib.shake_256(ids.nonce().encode()).digest(size)


def _tag(key: bytes, nonce: bytes, associated: bytes, body: bytes) -> bytes:
    framed = nonce + len(associated).to_bytes(8, "big") + associated + body
    return hmac.new(key, framed, hashlib.sha256).digest()[:_TAG]


def _stream(key: bytes, nonce: bytes, data: bytes) -> bytes:
    pad = hashlib.shake_256(b"fly-tools-fake-aead" + key + nonce).digest(len(data))
    return bytes(a ^ b for a, b in zip(data, pad, strict=True))
