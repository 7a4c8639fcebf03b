"""Argument models for an app's secret keys (Fly's KMS) and for reading and bulk-changing secrets.

Fly's spec types bytes (key material, plaintext, ciphertext, signatures) as JSON arrays
of byte values. A model sends them as base64 text (or as such an array); they go out as
the array. Secret material the agent sends (key bytes, plaintext to encrypt, secret values)
is typed ``SecretStr``, so audit records and tracing callbacks only ever see
``[redacted]``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    SecretStr,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from fly_tools.models.base import OBVIOUS, AppArgs
from fly_tools.models.fields import OptionalInt
from fly_tools.models.identifiers import SecretName, identifier_rule

SecretKeyName = Annotated[
    str,
    identifier_rule(
        "secret key name",
        r"[A-Za-z0-9_-]+",
        "letters, digits, '_' or '-' (a file name under /.fly/kms), optionally ending in a "
        "version like 'v2'",
        "jwt_signing_v1",
        255,
    ),
]
"""A key's label: flyctl's ``^[a-zA-Z0-9_-]+$`` (it becomes a file under ``/.fly/kms``)."""

SecretKeyType = Literal[
    "hs256",
    "hs384",
    "hs512",
    "nacl_auth",
    "xaes256gcm",
    "nacl_secretbox",
    "nacl_box",
    "nacl_sign",
    "es256",
]
"""Key types fly-go names (``SECRETKEY_TYPE_*``)."""
SIGNING_TYPES: frozenset[str] = frozenset(
    {"hs256", "hs384", "hs512", "nacl_auth", "nacl_sign", "es256"}
)
ENCRYPTING_TYPES: frozenset[str] = frozenset({"xaes256gcm", "nacl_secretbox", "nacl_box"})
KEY_SIZES: dict[str, int] = {
    "nacl_auth": 32,
    "xaes256gcm": 32,
    "nacl_secretbox": 32,
    "nacl_box": 32,
}
"""Bytes of key material a type takes, where the algorithm fixes it (NaCl, XAES-256-GCM);
HMAC keys (``hs*``) take any length, and Fly itself checks the other types' keys."""
MAX_BYTES = 64 * 1024
"""The most bytes one payload may carry (plaintext, ciphertext, signature)."""

_B64_FORM = "base64 text like 'aGVsbG8=' (or a JSON array of byte values 0-255)"
VEILED = "[redacted]"
"""``fly_tools.guards.REDACTED`` (models sit below guards, so it is restated here).

LangChain may validate a tool's input as tracing callbacks see it, with each secret field
replaced by this placeholder, so the shape checks here accept it; the toolkit's own
argument check then refuses the placeholder in any secret field, so a body never carries
it."""


def decode_base64(text: str) -> bytes | None:
    """``text`` as bytes from standard or URL-safe base64 (padding optional); ``None`` if not."""
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    alphabet = b"-_" if ("-" in cleaned or "_" in cleaned) else None
    try:
        return base64.b64decode(padded, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        return None


def _to_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, list):
        if all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value):
            return bytes(value)
        raise ValueError(f"must be {_B64_FORM}; the array holds something other than 0-255")
    decoded = decode_base64(value) if isinstance(value, str) else None
    if decoded is None:
        # The value itself stays out of the message: it may be ciphertext or a signature.
        raise ValueError(f"must be {_B64_FORM}")
    return decoded


Bytes = Annotated[
    bytes,
    BeforeValidator(_to_bytes),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Bytes given as base64 text (or an array of byte values); sent as Fly's byte array."""


def _base64_secret(value: Any) -> Any:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if raw == VEILED:
        return SecretStr(raw)
    if not isinstance(raw, str) or not raw.strip() or decode_base64(raw) is None:
        raise ValueError(f"must be the key bytes as {_B64_FORM.split(' (')[0]}")
    return SecretStr(raw)


KeyMaterial = Annotated[SecretStr, BeforeValidator(_base64_secret)]
"""Key bytes as base64 text, kept secret (``SecretStr``) from the moment they arrive."""


class SecretKeyArgs(AppArgs):
    secret_name: SecretKeyName = Field(description="Key name, from fly_list_secret_keys.")

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # The spec's form of []byte: an array of byte values (Fly's Go decoder also reads
        # base64 text, but the array is what the spec promises).
        body = super().json_body(path_fields)
        if not isinstance(body, dict):
            return body
        return {k: list(v) if isinstance(v, bytes) else v for k, v in body.items()}


MIN_VERSION = "Secrets version from a set answer, to read at least that."


class ListSecretKeysArgs(AppArgs):
    query_fields = ("min_version", "types")
    min_version: OptionalInt = Field(default=None, ge=0, description=MIN_VERSION)
    types: list[SecretKeyType] | None = Field(
        default=None, description="Only keys of these types.", json_schema_extra=OBVIOUS
    )

    def query_params(self) -> list[tuple[str, str]]:
        # Fly takes the type filter as one comma-separated value.
        params = [(k, v) for k, v in super().query_params() if k != "types"]
        if self.types:
            params.append(("types", ",".join(self.types)))
        return params


class GetSecretKeyArgs(SecretKeyArgs):
    query_fields = ("min_version",)
    min_version: OptionalInt = Field(default=None, ge=0, description=MIN_VERSION)


class SetSecretKeyArgs(SecretKeyArgs):
    sends_body = True
    type: SecretKeyType = Field(description="Key type, e.g. 'hs256' or 'nacl_secretbox'.")
    value: KeyMaterial = Field(description="Key bytes, base64. Never echoed back.")

    @model_validator(mode="after")
    def _sized_for_its_type(self) -> SetSecretKeyArgs:
        size = KEY_SIZES.get(self.type)
        key = decode_base64(self.value.get_secret_value())
        if key is not None and size is not None and len(key) != size:
            raise ValueError(f"a {self.type} key is {size} bytes; the value decodes to {len(key)}")
        return self

    def json_body(self, path_fields: frozenset[str]) -> Any:
        # Only the placeholder fails to decode here: it goes out empty, which Fly refuses
        # (400) and which changes nothing, rather than as bytes of its own text.
        key = decode_base64(self.value.get_secret_value()) or b""
        return {"type": self.type, "value": list(key)}


class GenerateSecretKeyArgs(SecretKeyArgs):
    sends_body = True
    type: SecretKeyType = Field(description="Key type, e.g. 'hs256' or 'nacl_secretbox'.")


class _PayloadArgs(SecretKeyArgs):
    sends_body = True
    query_fields = ("min_version",)
    min_version: OptionalInt = Field(default=None, ge=0, description=MIN_VERSION)


class EncryptArgs(_PayloadArgs):
    plaintext: SecretStr = Field(
        min_length=1, max_length=MAX_BYTES, description="Text to encrypt (UTF-8). Never echoed."
    )
    associated_data: Bytes | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BYTES,
        description="Authenticated, not encrypted; base64.",
    )

    def json_body(self, path_fields: frozenset[str]) -> Any:
        body: dict[str, Any] = {"plaintext": list(self.plaintext.get_secret_value().encode())}
        if self.associated_data is not None:
            body["associated_data"] = list(self.associated_data)
        return body


class DecryptArgs(_PayloadArgs):
    ciphertext: Bytes = Field(
        min_length=1, max_length=MAX_BYTES, description="From fly_encrypt_with_secret_key; base64."
    )
    associated_data: Bytes | None = Field(
        default=None, min_length=1, max_length=MAX_BYTES, description="As given to encrypt; base64."
    )


class SignArgs(_PayloadArgs):
    # Not secret: the person approving a signature must see what is signed.
    plaintext: str = Field(min_length=1, max_length=MAX_BYTES, description="Text to sign (UTF-8).")

    def json_body(self, path_fields: frozenset[str]) -> Any:
        return {"plaintext": list(self.plaintext.encode())}


class VerifyArgs(_PayloadArgs):
    plaintext: str = Field(min_length=1, max_length=MAX_BYTES, description="Signed text (UTF-8).")
    signature: Bytes = Field(
        min_length=1, max_length=MAX_BYTES, description="From fly_sign_with_secret_key; base64."
    )

    def json_body(self, path_fields: frozenset[str]) -> Any:
        return {"plaintext": list(self.plaintext.encode()), "signature": list(self.signature)}


# ---------------------------------------------------------------- secret values

MAX_UPDATES = 100
"""Secrets one bulk update may set or unset."""


class GetSecretArgs(AppArgs):
    # show_secrets is deliberately not a field: the tool reads metadata, never the value.
    query_fields = ("min_version",)
    secret_name: SecretName = Field(description="e.g. 'DATABASE_URL'.")
    min_version: OptionalInt = Field(default=None, ge=0, description=MIN_VERSION)


_CHANGES = TypeAdapter(dict[SecretName, SecretStr])


def _changes(value: Any) -> dict[str, SecretStr] | SecretStr:
    # One validator for the union, so an error names `values`, not pydantic's branches.
    if value == VEILED or (isinstance(value, SecretStr) and value.get_secret_value() == VEILED):
        return SecretStr(VEILED)
    if not isinstance(value, dict):
        raise ValueError("values must map secret names to values, e.g. {'API_KEY': '...'}")
    try:
        changes = _CHANGES.validate_python(value)
    except ValidationError as error:
        first = error.errors(include_input=False)[0]
        raise ValueError(first["msg"].removeprefix("Value error, ")) from None
    for name, secret in changes.items():
        text = secret.get_secret_value()
        # A secret becomes an environment variable: a NUL would cut it short. Checked here,
        # not in the model's validator, so the error names `values`.
        if not text or "\x00" in text:
            raise ValueError(f"the value of {name} must be non-empty text without NUL")
    return changes


class UpdateSecretsArgs(AppArgs):
    sends_body = True
    # SecretStr is in the type's arguments, so redaction hides the whole field (names
    # too) from callbacks and audit records, even for raw input that failed validation;
    # the bare SecretStr form only admits the placeholder callbacks are shown.
    # The schema shows the mapping only: the string form is for the placeholder.
    values: Annotated[
        dict[SecretName, SecretStr] | SecretStr,
        PlainValidator(_changes, json_schema_input_type=dict[str, str]),
    ] = Field(default_factory=dict, description="Name -> new value, to set. Never echoed.")
    unset: list[SecretName] = Field(
        default_factory=list, description="Names to remove; their values are lost."
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateSecretsArgs:
        if isinstance(self.values, SecretStr):
            return self  # the placeholder callbacks are shown: the real input comes next
        if not self.values and not self.unset:
            raise ValueError("give values to set and/or names to unset")
        if len(self.values) + len(self.unset) > MAX_UPDATES:
            raise ValueError(f"at most {MAX_UPDATES} secrets per update; split the change")
        both = sorted(set(self.values) & set(self.unset))
        if both:
            raise ValueError(f"{', '.join(both)} both set and unset; choose one")
        return self

    def json_body(self, path_fields: frozenset[str]) -> Any:
        if isinstance(self.values, SecretStr):
            # Only the placeholder gets here: nothing is set (the unsets go as approved);
            # with no unsets the map is empty, which Fly refuses (400).
            return {"values": dict.fromkeys(self.unset)}
        # Fly's one map: a string sets, a null unsets (fly-go's map[string]*string).
        changes: dict[str, str | None] = {k: v.get_secret_value() for k, v in self.values.items()}
        changes |= dict.fromkeys(self.unset)
        return {"values": changes}


__all__ = [
    "ENCRYPTING_TYPES",
    "KEY_SIZES",
    "SIGNING_TYPES",
    "DecryptArgs",
    "EncryptArgs",
    "GenerateSecretKeyArgs",
    "GetSecretArgs",
    "GetSecretKeyArgs",
    "ListSecretKeysArgs",
    "SecretKeyArgs",
    "SecretKeyName",
    "SecretKeyType",
    "SetSecretKeyArgs",
    "SignArgs",
    "UpdateSecretsArgs",
    "VerifyArgs",
]
