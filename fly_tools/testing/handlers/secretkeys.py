"""Handlers for an app's secret keys (Fly's KMS) and for reading and bulk-changing secrets.

The keys and their rules are :mod:`fly_tools.testing.secretkeys`; here requests are read
and answers shaped.

Bytes: Fly's Go server writes a ``[]byte`` as base64 text, as any Go JSON encoder does, and
the fake answers so by default; ``FakeFly(shapes="spec")`` answers arrays of byte values,
as the spec types them (ENDPOINTS.md, "Go-shaped answers"). Requests are accepted in both
forms, as Go's decoder reads both.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from pydantic import BeforeValidator

from fly_tools.testing import secretkeys as kms
from fly_tools.testing.apps import App
from fly_tools.testing.calls import BodyParams, Call, Params, Reply, Strings, route
from fly_tools.testing.errors import FakeBadRequestError, FakeNotFoundError
from fly_tools.testing.secretkeys import SecretKey
from fly_tools.testing.state import FakeState


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


def _app(fly: FakeState, p: AppPath) -> App:
    app = fly.app(p.app_name)
    wanted = p.min_version if p.min_version is not None else p.version
    # The fake's store is never behind; a version it never issued is a mistake.
    if wanted is not None and wanted > app.secrets_version:
        raise FakeBadRequestError(
            f"min_version {wanted} is ahead of the app's secrets (version {app.secrets_version})"
        )
    return app


def _usable_key(fly: FakeState, p: KeyPath, verb: str) -> SecretKey:
    return _app(fly, p).secret_keys.get(p.secret_name).usable_to(verb)


def _stored(fly: FakeState, p: KeyPath, key_type: str, material: bytes) -> Reply:
    _app(fly, p)  # refuses a missing app or a version ahead before anything changes
    key, version = fly.set_secret_key(p.app_name, p.secret_name, key_type, material)
    return Reply(key.to_wire() | {"version": version, "Version": version}, 201)


def _required(value: bytes | None, name: str) -> bytes:
    if not value:
        raise FakeBadRequestError(f"{name} is required")
    return value


# ---------------------------------------------------------------- secret keys


@route("fly_list_secret_keys", ListKeysParams)
def list_secret_keys(fly: FakeState, call: Call, p: ListKeysParams) -> Reply:
    keys = _app(fly, p).secret_keys.listed(p.types)
    return Reply({"secret_keys": [key.to_wire() for key in keys]})


@route("fly_get_secret_key", KeyPath)
def get_secret_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    return Reply(_app(fly, p).secret_keys.get(p.secret_name).to_wire())


@route("fly_set_secret_key", SetKeyParams)
def set_secret_key(fly: FakeState, call: Call, p: SetKeyParams) -> Reply:
    key_type = kms.checked_type(p.secret_name, p.type)
    return _stored(fly, p, key_type, kms.checked_material(key_type, p.value))


@route("fly_generate_secret_key", SetKeyParams)
def generate_secret_key(fly: FakeState, call: Call, p: SetKeyParams) -> Reply:
    key_type = kms.checked_type(p.secret_name, p.type)
    return _stored(fly, p, key_type, kms.generated_material(key_type, fly.ids))


@route("fly_delete_secret_key", KeyPath)
def delete_secret_key(fly: FakeState, call: Call, p: KeyPath) -> Reply:
    _app(fly, p)  # refuses a missing app or a version ahead before anything changes
    version = fly.delete_secret_key(p.app_name, p.secret_name)
    return Reply({"version": version, "Version": version})


@route("fly_encrypt_with_secret_key", PayloadParams)
def encrypt(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable_key(fly, p, "encrypt")
    plaintext = _required(p.plaintext, "plaintext")
    sealed = key.seal(kms.new_nonce(fly.ids), plaintext, p.associated_data)
    return Reply({"ciphertext": _bytes_out(fly, sealed)})


@route("fly_decrypt_with_secret_key", PayloadParams)
def decrypt(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable_key(fly, p, "decrypt")
    opened = key.open(_required(p.ciphertext, "ciphertext"), p.associated_data)
    return Reply({"plaintext": _bytes_out(fly, opened)})


@route("fly_sign_with_secret_key", PayloadParams)
def sign(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable_key(fly, p, "sign")
    signature = key.sign(_required(p.plaintext, "plaintext"))
    return Reply({"signature": _bytes_out(fly, signature)})


@route("fly_verify_with_secret_key", PayloadParams)
def verify(fly: FakeState, call: Call, p: PayloadParams) -> Reply:
    key = _usable_key(fly, p, "verify")
    key.verify(_required(p.plaintext, "plaintext"), _required(p.signature, "signature"))
    return Reply.empty(204)


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
    version = fly.update_secrets(p.app_name, p.values)
    rows = [app.secrets[name].to_wire() for name in sorted(app.secrets)]
    return Reply({"secrets": rows, "version": version, "Version": version})
