"""Fields of Fly's answers that others write (a guest, a deployer, a lease holder), named once.

Each record's ``untrusted=`` picks one of these (or names its own): dotted paths into
the answer, lists walked, ``""`` for the whole answer, each mapped to what it is in plain
words, for the fence the model reads and the question a person reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def _fixed(fields: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(fields)


NONE: Mapping[str, str] = _fixed({})
"""The answer holds only what Fly itself or this toolkit wrote."""

MACHINE: Mapping[str, str] = _fixed(
    {
        "config.metadata": "metadata",
        "config.env": "env values",
        "image_ref.labels": "image labels",
        "checks.output": "health check output",
        "events.request": "event details",
    }
)
"""A machine: metadata and env anyone who deploys can set, the image's labels, what the
guest's health checks print, the details of its events."""

ORG_MACHINES: Mapping[str, str] = _fixed({f"machines.{k}": v for k, v in MACHINE.items()})
"""An org-wide machine list (``{"machines": [...]}``)."""

VERSIONS: Mapping[str, str] = _fixed(
    {"user_config.metadata": "metadata", "user_config.env": "env values"}
)
"""A machine's config versions."""

GUEST_OUTPUT: Mapping[str, str] = _fixed({"": "command output"})
"""What a command printed inside a machine."""

PROCESSES: Mapping[str, str] = _fixed({"command": "process command lines"})
"""The command lines of a machine's processes (any process can set its own)."""

EVENTS: Mapping[str, str] = _fixed({"request": "event details"})
"""A machine's events: their details carry exit messages and whoever asked."""

LEASE: Mapping[str, str] = _fixed({"description": "lease description"})
"""A lease's description, written by whoever holds it."""

METADATA: Mapping[str, str] = _fixed({"": "metadata"})
"""A machine's metadata, keys and values."""

METADATA_VALUE: Mapping[str, str] = _fixed({"value": "metadata value"})
"""One metadata value."""

PLAINTEXT: Mapping[str, str] = _fixed({"plaintext": "decrypted text"})
"""Text decrypted from a ciphertext whose author is unknown."""
