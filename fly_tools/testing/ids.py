"""Identifiers shaped like Fly's, drawn from a seeded generator so runs are reproducible."""

from __future__ import annotations

import hashlib
import random
import string

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ADJECTIVES = (
    "still",
    "quiet",
    "bold",
    "icy",
    "misty",
    "proud",
    "small",
    "sparkling",
    "winter",
    "young",
    "ancient",
    "billowing",
    "holy",
    "late",
    "lingering",
    "morning",
)
_NOUNS = (
    "cherry",
    "river",
    "smoke",
    "field",
    "frost",
    "glade",
    "leaf",
    "moon",
    "night",
    "pine",
    "shadow",
    "snow",
    "sun",
    "thunder",
    "water",
    "wind",
)


class IdSource:
    """Makes machine, volume, version, event and lease ids like Fly's.

    Args:
        seed: the same seed gives the same sequence of ids.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)

    def _pick(self, alphabet: str, length: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def machine_id(self) -> str:
        """14 lower-case hex characters, e.g. ``3d8d9015b23489``."""
        return self._pick("0123456789abcdef", 14)

    def volume_id(self) -> str:
        """``vol_`` and 16 lower-case letters or digits."""
        return "vol_" + self._pick(_LOWER_ALNUM, 16)

    def app_id(self) -> str:
        """An opaque app id."""
        return self._pick(_LOWER_ALNUM, 16)

    def ulid(self, at: float) -> str:
        """A 26-character ULID for time ``at`` (Fly's version and event ids)."""
        millis = int(at * 1000)
        stamp = "".join(_CROCKFORD[(millis >> shift) & 31] for shift in range(45, -1, -5))
        return stamp + self._pick(_CROCKFORD, 16)

    def nonce(self) -> str:
        """A lease nonce."""
        return self._pick("0123456789abcdef", 32)

    def zone(self) -> str:
        """A volume's zone within its region."""
        return self._pick("0123456789abcdef", 4)

    def machine_name(self) -> str:
        """A generated machine name such as ``still-cherry-2893``."""
        words = f"{self._rng.choice(_ADJECTIVES)}-{self._rng.choice(_NOUNS)}"
        return f"{words}-{self._rng.randrange(1000, 10000)}"

    def private_ip(self, network: int) -> str:
        """A 6PN address in the org's ``fdaa:`` network."""
        host = self._pick("0123456789abcdef", 8)
        return f"fdaa:0:{network:x}:a7b:{host[:4]}:{host[4:]}:{self._rng.randrange(1, 99):x}:2"

    def number(self, low: int, high: int) -> int:
        """An integer in ``[low, high)``."""
        return self._rng.randrange(low, high)


def digest(value: str) -> str:
    """Fly-style secret digest: the first 16 hex characters of its SHA-256."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]
