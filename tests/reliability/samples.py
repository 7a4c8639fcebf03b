"""Valid sample arguments for every tool on the demo world, and the state some of them need.

``sample_arguments`` is the base every strategy starts from: each required field (and
the optional ones a tool cannot do without) holds a value the argument model accepts
without any state in the world, so a hostile draw that breaks one field leaves the
others valid. ``prepare`` then gives the world what a call needs to succeed (a
certificate, an assigned address, secret keys) and fills in values only the world can
give (the address, a ciphertext, a signature).
"""

from __future__ import annotations

import base64
from typing import Any

from fly_tools.catalogue import Endpoint
from fly_tools.testing import FakeFly
from fly_tools.testing.world import MACHINES, VOL_DATA, VOL_DATA_OLD, WEB_SECRETS
from tests.fake.tour_certificates import FULLCHAIN, PRIVATE_KEY
from tests.tools.world import CUSTOM_HOST, HOST, _prepare

Args = dict[str, Any]

KEY_BYTES = base64.b64encode(bytes(range(32))).decode()
"""32 bytes of key material as base64: fits every key type."""

_SAMPLE: Args = {
    "app_name": "web",
    "machine_id": MACHINES["web-1"],
    "volume_id": VOL_DATA_OLD,
    "secret_name": WEB_SECRETS[0],
    "org_slug": "acme",
    "region": "ord",
    "signal": "SIGUSR1",
    "command": ["ls", "-la", "/data"],
    "lease_nonce": "n0nce",
    "value": "reliability-secret-value",
    "image": "nginx:1.27",
    # opt-in groups
    "hostname": HOST,
    "fullchain": FULLCHAIN,
    "private_key": PRIVATE_KEY,
    "ip": "2a09:8280:1::1",  # replaced by an assigned address in ``prepare``
    "type": "v6",
    "limit_mb": 192,
    "amount_mb": 8,
    "key": "fly_process_group",
    "changes": {"role": "primary"},
    "plaintext": "v42",
    # Valid base64; ``prepare`` swaps in what the world's keys produced.
    "ciphertext": base64.b64encode(b"not-yet-sealed").decode(),
    "signature": base64.b64encode(b"not-yet-signed").decode(),
}
_PER_TOOL: dict[str, Args] = {
    "fly_create_app": {"app_name": "fresh-app"},
    "fly_create_volume": {"name": "scratch"},
    "fly_extend_volume": {"size_gb": 20},
    "fly_delete_volume": {"volume_id": VOL_DATA_OLD},
    "fly_delete_machine": {"machine_id": MACHINES["web-3"]},  # stopped: it may go
    "fly_request_acme_certificate": {"hostname": "api.example.com"},
    "fly_upload_custom_certificate": {"hostname": "*.example.org"},
    "fly_delete_custom_certificate": {"hostname": CUSTOM_HOST},
    "fly_set_machine_metadata_key": {"key": "role", "value": "primary"},
    "fly_delete_machine_metadata_key": {"key": "fly_platform_version"},
    "fly_list_volume_snapshots": {"volume_id": VOL_DATA},
    "fly_create_volume_snapshot": {"volume_id": VOL_DATA},
    "fly_update_volume": {"volume_id": VOL_DATA},
    "fly_get_secret_key": {"secret_name": "sig"},
    "fly_delete_secret_key": {"secret_name": "sig"},
    "fly_set_secret_key": {"secret_name": "box_v2", "type": "nacl_secretbox", "value": KEY_BYTES},
    "fly_generate_secret_key": {"secret_name": "jwt_v1", "type": "hs256"},
    "fly_encrypt_with_secret_key": {"secret_name": "box"},
    "fly_decrypt_with_secret_key": {"secret_name": "box"},
    "fly_sign_with_secret_key": {"secret_name": "sig"},
    "fly_verify_with_secret_key": {"secret_name": "sig"},
}
_NEEDED: dict[str, Args] = {
    # Optional in the schema, but one of them must be given: "nothing to change" otherwise.
    "fly_update_volume": {"snapshot_retention": 10},
    "fly_update_secrets": {"values": {"API_KEY": "reliability-secret-value"}},
}
"""Optional fields a tool refuses to do without (a rule the schema cannot express)."""


def sample_arguments(endpoint: Endpoint, schema: dict[str, Any]) -> Args:
    """Valid arguments for the demo world: every required field (and an image for machines)."""
    required = set(schema.get("required", ()))
    if endpoint.name in ("fly_create_machine", "fly_update_machine"):
        required.add("image")
    args = {name: _SAMPLE[name] for name in required if name in _SAMPLE}
    args.update({k: v for k, v in _PER_TOOL.get(endpoint.name, {}).items() if k in required})
    args.update(_NEEDED.get(endpoint.name, {}))
    return args


def prepare(fake: FakeFly, tool: str, args: Args) -> Args:
    """Give ``fake`` the state ``tool``'s sample call needs; ``args`` completed to match.

    The state comes from the tool tests' example world (``tests/tools/world.py``), so both
    suites agree on what each opt-in tool needs. Clears the fake's request log after.
    """
    completed = dict(args)
    if tool == "fly_release_lease":
        machine = {k: args[k] for k in ("app_name", "machine_id")}
        lease = fake.client().call("fly_acquire_lease", {**machine, "ttl": 300})
        completed["lease_nonce"] = lease["nonce"]
    _prepare(fake, tool, completed)
    return completed


__all__ = ["KEY_BYTES", "Args", "prepare", "sample_arguments"]
