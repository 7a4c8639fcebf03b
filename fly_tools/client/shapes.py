"""Reads Fly's answers in either encoding: Go's (bytes as base64 text) and the spec's (arrays).

Fly's server is Go: its JSON encoder writes a ``[]byte`` as base64 text, where the OpenAPI
spec types the same fields as arrays of byte values (ENDPOINTS.md, "Go-shaped answers").
The client hands callers one form whichever the server wrote: arrays of 0-255, which the
tools show decoded and labelled.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fly_tools.catalogue import Endpoint

BYTE_FIELDS = frozenset({"plaintext", "ciphertext", "signature", "public_key"})
"""Answer fields of the secret-key operations typed ``[]byte`` in fly-go
(superfly/fly-go ``secrets_types.go``: ``SecretKey.Publickey``, ``EncryptSecretKeyResp``,
``DecryptSecretKeyResp``, ``SignSecretKeyResp``) and as integer arrays in the spec."""
BYTES_GROUPS = frozenset({"secretkeys"})
"""Catalogue groups whose answers carry :data:`BYTE_FIELDS`."""


def as_byte_arrays(endpoint: Endpoint, data: Any) -> Any:
    """``data`` with every byte field as an array of 0-255, whether Fly sent base64 or one.

    Text that is not base64 is left as it came: the caller sees what Fly sent.
    """
    if endpoint.group not in BYTES_GROUPS:
        return data
    return _arrays(data)


def _arrays(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _decoded(v) if k in BYTE_FIELDS else _arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_arrays(item) for item in value]
    return value


def _decoded(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return list(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return value
