"""Handlers for an app's secret keys (Fly's KMS) and for reading and bulk-changing secrets.

Keys live in ``App.extras["secretkeys"]`` and go with the app. Signing is real HMAC
(``hs256``/``hs384``/``hs512``; ``nacl_auth`` is NaCl's HMAC-SHA-512-256). The encrypting
types (``xaes256gcm``, ``nacl_secretbox``) use a stand-in authenticated cipher built from
the standard library, so the fake needs no crypto package: a fresh 24-byte nonce, the
plaintext XORed with SHAKE-256(key || nonce), then a 16-byte HMAC-SHA-256 tag over nonce,
associated data and ciphertext. It round-trips and refuses tampering like the real thing,
but it is not Fly's wire format. Generated keys and nonces come from the fake's seeded
ids, so a run repeats exactly. The public-key types (``nacl_box``, ``nacl_sign``,
``es256``) are refused with a 400.

Bytes: Fly's Go server writes a ``[]byte`` as base64 text, as any Go JSON encoder does, and
the fake answers so by default; ``FakeFly(shapes="spec")`` answers arrays of byte values,
as the spec types them (ENDPOINTS.md, "Go-shaped answers"). Requests are accepted in both
forms, as Go's decoder reads both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args

from pydantic import BeforeValidator, TypeAdapter

from fly_tools.models.identifiers import SecretName
from fly_tools.models.secretkeys import (
    ENCRYPTING_TYPES,
    KEY_SIZES,
    SIGNING_TYPES,
    SecretKeyName,
    SecretKeyType,
)
from fly_tools.testing.calls import BodyParams, Call, Params, Reply, Strings, route
from fly_tools.testing.clock import iso
from fly_tools.testing.errors import FakeBadRequestError, FakeNotFoundError, require_valid
from fly_tools.testing.state import App, FakeState

EXTRAS_KEY = "secretkeys"
"""Where an app's keys live in ``App.extras``."""
KNOWN_TYPES: tuple[str, ...] = get_args(SecretKeyType)
PUBLIC_KEY_TYPES = frozenset({"nacl_box", "nacl_sign", "es256"})
_HMAC = {"hs256": hashlib.sha256, "hs384": hashlib.sha384, "hs512": hashlib.sha512}
_GENERATED_SIZE = {"hs256": 32, "hs384": 48, "hs512": 64}
_NONCE, _TAG = 24, 16
_KEY_NAME = TypeAdapter(SecretKeyName)
_SECRET_NAME = TypeAdapter(SecretName)


def _wire_bytes(value: Any) -> Any:
    if isinstance(value, list):
        if all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value):
            return bytes(value)
        raise ValueError("json: cannot unmarshal number into Go value of type uint8")
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("illegal base64 data") from None
    raise ValueError("must be an array of bytes or base64 text")


WireBytes = Annotated[bytes, BeforeValidator(_wire_bytes)]
"""A Go ``[]byte`` as Fly's server decodes it: an array of 0-255, or base64 text."""


def _bytes_out(fly: FakeState, raw: bytes) -> str | list[int]:
    """``raw`` as Fly's Go encoder writes a ``[]byte`` (base64), or as the spec types it."""
    # superfly/fly-go secrets_types.go:74-93: the answers' fields are []byte.
    return base64.b64encode(raw).decode() if fly.shapes == "go" else list(raw)


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


# ---------------------------------------------------------------- parameters


class AppPath(Params):
    app_name: str
    min_version: int | None = None
    version: int | None = None  # what fly-go sends instead of min_version (D8)


class ListKeysParams(AppPath):
    types: Strings | None = None


class KeyPath(AppPath):
    secret_name: str


class SetKeyParams(KeyPath, BodyParams):
    type: str | None = None
    value: WireBytes | None = None


class PayloadParams(KeyPath, BodyParams):
    plaintext: WireBytes | None = None
    ciphertext: WireBytes | None = None
    associated_data: WireBytes = b""
    signature: WireBytes | None = None


class SecretPath(AppPath):
    secret_name: str
    show_secrets: bool = False


class UpdateSecretsParams(AppPath, BodyParams):
    values: dict[str, str | None] | None = None


# ---------------------------------------------------------------- state helpers


def _app(fly: FakeState, p: AppPath) -> App:
    app = fly.app(p.app_name)
    wanted = p.min_version if p.min_version is not None else p.version
    # The fake's store is never behind; a version it never issued is a mistake.
    if wanted is not None and wanted > app.secrets_version:
        raise FakeBadRequestError(
            f"min_version {wanted} is ahead of the app's secrets (version {app.secrets_version})"
        )
    return app


def _keys(app: App) -> dict[str, SecretKey]:
    keys: dict[str, SecretKey] = app.extras.setdefault(EXTRAS_KEY, {})
    return keys


def _key(fly: FakeState, p: KeyPath) -> SecretKey:
    key = _keys(_app(fly, p)).get(p.secret_name)
    if key is None:
        raise FakeNotFoundError(f"secret key {p.secret_name} not found")
    return key


def _store(fly: FakeState, p: KeyPath, key_type: str, material: bytes) -> Reply:
    app, now = _app(fly, p), fly.now()
    keys = _keys(app)
    existing = keys.get(p.secret_name)
    created = existing.created_at if existing else now
    key = keys[p.secret_name] = SecretKey(p.secret_name, key_type, material, created, now)
    app.secrets_version += 1  # keys share the app's secrets version with its secrets
    version = app.secrets_version
    return Reply(key.to_wire() | {"version": version, "Version": version}, 201)


def _checked_type(p: SetKeyParams) -> str:
    require_valid(_KEY_NAME, p.secret_name)
    if p.type not in KNOWN_TYPES:
        shown = "no type" if p.type is None else f"unknown key type {p.type!r}"
        raise FakeBadRequestError(f"{shown}; use one of: {', '.join(KNOWN_TYPES)}")
    if p.type in PUBLIC_KEY_TYPES:
        raise FakeBadRequestError(
            f"key type {p.type} is not implemented by the fake Fly API (public-key types "
            "nacl_box, nacl_sign and es256 are not); use hs256, nacl_auth or nacl_secretbox"
        )
    return p.type


# ---------------------------------------------------------------- secret keys


@route("fly_list_secret_keys", ListKeysParams)
def list_secret_keys(fly: FakeState, call: Call, p: ListKeysParams) -> Reply:
    keys = _keys(_app(fly, p))
    wanted = set(p.types or KNOWN_TYPES)
    rows = [keys[name].to_wire() for name in sorted(keys) if keys[name].type in wanted]
    return Reply({"secret_keys": rows})


@route("fly_get_secret_key", KeyPath)
def get_secret_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    return Reply(_key(fly, p).to_wire())


@route("fly_set_secret_key", SetKeyParams)
def set_secret_key(fly: FakeState, call: Call, p: SetKeyParams) -> Reply:
    key_type = _checked_type(p)
    if not p.value:
        raise FakeBadRequestError("value is required: the key bytes")
    size = KEY_SIZES.get(key_type)
    if size is not None and len(p.value) != size:
        raise FakeBadRequestError(f"a {key_type} key is {size} bytes, got {len(p.value)}")
    return _store(fly, p, key_type, p.value)


@route("fly_generate_secret_key", SetKeyParams)
def generate_secret_key(fly: FakeState, call: Call, p: SetKeyParams) -> Reply:
    key_type = _checked_type(p)
    size = KEY_SIZES.get(key_type) or _GENERATED_SIZE[key_type]
    return _store(fly, p, key_type, _drawn(fly, size))


@route("fly_delete_secret_key", KeyPath)
def delete_secret_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    key = _key(fly, p)
    app = fly.app(p.app_name)
    del _keys(app)[key.name]
    app.secrets_version += 1
    return Reply({"version": app.secrets_version, "Version": app.secrets_version})


@route("fly_encrypt_with_secret_key", PayloadParams)
def encrypt(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable(fly, p, ENCRYPTING_TYPES, "encrypt")
    plaintext = _required(p.plaintext, "plaintext")
    nonce = _drawn(fly, _NONCE)
    sealed = _seal(key.material, nonce, plaintext, p.associated_data)
    return Reply({"ciphertext": _bytes_out(fly, sealed)})


@route("fly_decrypt_with_secret_key", PayloadParams)
def decrypt(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable(fly, p, ENCRYPTING_TYPES, "decrypt")
    ciphertext = _required(p.ciphertext, "ciphertext")
    opened = _open(key.material, ciphertext, p.associated_data)
    return Reply({"plaintext": _bytes_out(fly, opened)})


@route("fly_sign_with_secret_key", PayloadParams)
def sign(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable(fly, p, SIGNING_TYPES, "sign")
    signature = _mac(key, _required(p.plaintext, "plaintext"))
    return Reply({"signature": _bytes_out(fly, signature)})


@route("fly_verify_with_secret_key", PayloadParams)
def verify(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable(fly, p, SIGNING_TYPES, "verify")
    expected = _mac(key, _required(p.plaintext, "plaintext"))
    if not hmac.compare_digest(expected, _required(p.signature, "signature")):
        raise FakeBadRequestError("signature verification failed")
    return Reply.empty(204)


def _usable(fly: FakeState, p: PayloadParams, kinds: frozenset[str], verb: str) -> SecretKey:
    key = _key(fly, p)
    if key.type not in kinds:
        usable = ", ".join(sorted(kinds - PUBLIC_KEY_TYPES))
        raise FakeBadRequestError(
            f"secret key {key.name} is a {key.type} key, which cannot {verb}; "
            f"use a key of type {usable}"
        )
    return key


def _required(value: bytes | None, name: str) -> bytes:
    if not value:
        raise FakeBadRequestError(f"{name} is required")
    return value


def _mac(key: SecretKey, message: bytes) -> bytes:
    if key.type == "nacl_auth":  # NaCl crypto_auth: HMAC-SHA-512 cut to 32 bytes
        return hmac.new(key.material, message, hashlib.sha512).digest()[:32]
    return hmac.new(key.material, message, _HMAC[key.type]).digest()


def _tag(key: bytes, nonce: bytes, associated: bytes, body: bytes) -> bytes:
    framed = nonce + len(associated).to_bytes(8, "big") + associated + body
    return hmac.new(key, framed, hashlib.sha256).digest()[:_TAG]


def _stream(key: bytes, nonce: bytes, data: bytes) -> bytes:
    pad = hashlib.shake_256(b"fly-tools-fake-aead" + key + nonce).digest(len(data))
    return bytes(a ^ b for a, b in zip(data, pad, strict=True))


def _drawn(fly: FakeState, size: int) -> bytes:
    # Drawn from the fake's seeded ids, not the OS: the same seed gives the same keys and
    # ciphertexts, so runs repeat exactly. The fake's keys protect nothing real.
    return hashlib.shake_256(fly.ids.nonce().encode()).digest(size)


def _seal(key: bytes, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
    body = _stream(key, nonce, plaintext)
    return nonce + body + _tag(key, nonce, associated, body)


def _open(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    nonce, body, tag = sealed[:_NONCE], sealed[_NONCE:-_TAG], sealed[-_TAG:]
    if len(sealed) < _NONCE + _TAG or not hmac.compare_digest(
        tag, _tag(key, nonce, associated, body)
    ):
        raise FakeBadRequestError("failed to decrypt: message authentication failed")
    return _stream(key, nonce, body)


# ---------------------------------------------------------------- secret values


@route("fly_get_secret", SecretPath)
def get_secret(fly: FakeState, call: Call, p: SecretPath) -> Reply:
    # As fly_list_secrets: show_secrets is accepted, but values never leave the fake.
    secret = _app(fly, p).secrets.get(p.secret_name)
    if secret is None:
        raise FakeNotFoundError(f"secret {p.secret_name} not found")
    return Reply(secret.to_wire())


@route("fly_update_secrets", UpdateSecretsParams)
def update_secrets(fly: FakeState, call: Call, p: UpdateSecretsParams) -> Reply:
    app = fly.app(p.app_name)
    if not p.values:
        raise FakeBadRequestError("values is required: names to set (strings) or unset (null)")
    for name, value in p.values.items():  # all checked before any is applied
        require_valid(_SECRET_NAME, name)
        if value == "" or (value is not None and "\x00" in value):
            raise FakeBadRequestError(f"the value of {name} must be non-empty, without NUL")
    for name, value in p.values.items():
        if value is not None:
            fly.set_secret(p.app_name, name, value)
        elif name in app.secrets:  # unsetting a name that is not set changes nothing
            fly.delete_secret(p.app_name, name)
    version = app.secrets_version
    rows = [app.secrets[name].to_wire() for name in sorted(app.secrets)]
    return Reply({"secrets": rows, "version": version, "Version": version})
