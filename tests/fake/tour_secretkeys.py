"""A tour of every secret-key and secret-value endpoint on the demo world, for the all-endpoints tour.

It leaves app ``web`` as it found it (keys deleted, the secret it adds unset again);
only the app's secrets version moves on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from fly_tools.client import BadRequestError
from fly_tools.testing import FakeFly
from tests.fake.tour import Tour

KEY = bytes(range(32))
WEB = {"app_name": "web"}


def secretkeys_tour() -> Tour:
    """Make a signing and an encrypting key, use both, read secrets, bulk-update, clean up."""
    signing, box = WEB | {"secret_name": "release_v1"}, WEB | {"secret_name": "box"}
    made = yield (
        "fly_set_secret_key",
        signing
        | {
            "type": "hs256",
            "value": base64.b64encode(KEY).decode(),
        },
    )
    assert (made["name"], made["type"]) == ("release_v1", "hs256")
    generated = yield "fly_generate_secret_key", box | {"type": "nacl_secretbox"}
    assert generated["version"] == made["version"] + 1
    listed = yield "fly_list_secret_keys", WEB | {"min_version": generated["version"]}
    assert [k["name"] for k in listed["secret_keys"]] == ["box", "release_v1"]
    got = yield "fly_get_secret_key", box
    assert got["type"] == "nacl_secretbox"

    signed = yield "fly_sign_with_secret_key", signing | {"plaintext": "v42"}
    assert bytes(signed["signature"]) == hmac.new(KEY, b"v42", hashlib.sha256).digest()
    verified = yield (
        "fly_verify_with_secret_key",
        signing
        | {
            "plaintext": "v42",
            "signature": signed["signature"],
        },
    )
    assert verified is None  # 204: the signature holds
    forged = yield (
        "fly_verify_with_secret_key",
        signing
        | {
            "plaintext": "v43",
            "signature": signed["signature"],
        },
    )
    assert isinstance(forged, BadRequestError)

    sealed = yield "fly_encrypt_with_secret_key", box | {"plaintext": "pg-password"}
    opened = yield "fly_decrypt_with_secret_key", box | {"ciphertext": sealed["ciphertext"]}
    assert bytes(opened["plaintext"]) == b"pg-password"

    secret = yield "fly_get_secret", WEB | {"secret_name": "DATABASE_URL"}
    assert secret["name"] == "DATABASE_URL"
    assert "value" not in secret
    added = yield "fly_update_secrets", WEB | {"values": {"TOUR_TOKEN": "t-1"}}
    assert "TOUR_TOKEN" in [s["name"] for s in added["secrets"]]
    removed = yield "fly_update_secrets", WEB | {"unset": ["TOUR_TOKEN"]}
    assert removed["version"] == added["version"] + 1
    assert "TOUR_TOKEN" not in [s["name"] for s in removed["secrets"]]

    for key in (signing, box):
        deleted = yield "fly_delete_secret_key", key
        assert deleted["version"] > removed["version"]
    left = yield "fly_list_secret_keys", WEB
    assert left["secret_keys"] == []


# ---------------------------------------------------------------- for tests/tools/world.py

EXAMPLES: dict[str, dict[str, Any]] = {
    "fly_list_secret_keys": WEB | {"types": ["hs256"]},
    "fly_get_secret_key": WEB | {"secret_name": "sig"},
    "fly_set_secret_key": WEB
    | {"secret_name": "box_v2", "type": "nacl_secretbox", "value": base64.b64encode(KEY).decode()},
    "fly_generate_secret_key": WEB | {"secret_name": "jwt_v1", "type": "hs256"},
    "fly_delete_secret_key": WEB | {"secret_name": "sig"},
    "fly_encrypt_with_secret_key": WEB | {"secret_name": "box", "plaintext": "pg-password"},
    "fly_decrypt_with_secret_key": WEB | {"secret_name": "box"},  # + ciphertext, prepared
    "fly_sign_with_secret_key": WEB | {"secret_name": "sig", "plaintext": "v42"},
    "fly_verify_with_secret_key": WEB | {"secret_name": "sig", "plaintext": "v42"},  # + signature
    "fly_get_secret": WEB | {"secret_name": "DATABASE_URL"},
    "fly_update_secrets": WEB
    | {"values": {"API_KEY": "s3cr3t-v4lue"}, "unset": ["SESSION_SECRET"]},
}
"""An example call of each tool on the demo world, once :func:`prepare` has run."""


def prepare(fake: FakeFly, tool: str, example: dict[str, Any]) -> dict[str, Any]:
    """Give app ``web`` keys ``sig`` (hs256) and ``box`` (nacl_secretbox); complete ``example``
    with a ciphertext or signature in the base64 form a model sends."""
    client = fake.client()
    for name, key_type in (("sig", "hs256"), ("box", "nacl_secretbox")):
        value = base64.b64encode(KEY).decode()
        client.call(
            "fly_set_secret_key", WEB | {"secret_name": name, "type": key_type, "value": value}
        )
    if tool == "fly_decrypt_with_secret_key":
        sealed = client.call("fly_encrypt_with_secret_key", EXAMPLES["fly_encrypt_with_secret_key"])
        return example | {"ciphertext": base64.b64encode(bytes(sealed["ciphertext"])).decode()}
    if tool == "fly_verify_with_secret_key":
        signed = client.call("fly_sign_with_secret_key", EXAMPLES["fly_sign_with_secret_key"])
        return example | {"signature": base64.b64encode(bytes(signed["signature"])).decode()}
    return example
