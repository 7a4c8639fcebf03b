"""Validated identifiers: every value that lands in a URL path or query is checked here."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# Characters that could change which URL is requested, named so the error can say which.
_PATH_ALTERING = {
    "/": "'/'",
    "\\": "'\\'",
    "?": "'?'",
    "#": "'#'",
    "%": "'%'",
    "&": "'&'",
    ";": "';'",
    "=": "'='",
}


def _describe_bad_chars(value: str) -> str:
    found = [label for ch, label in _PATH_ALTERING.items() if ch in value]
    if ".." in value:
        found.append("'..'")
    if any(ch.isspace() for ch in value):
        found.append("whitespace")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        found.append("control characters")
    if any(ord(ch) > 127 for ch in value):
        found.append("non-ASCII characters")
    return ", ".join(found)


def identifier_rule(
    kind: str, pattern: str, form: str, example: str, max_len: int
) -> AfterValidator:
    """A check that a ``kind`` identifier fully matches ``pattern`` and is at most
    ``max_len`` long; its error names the ``form`` and an ``example``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) and len(value) <= max_len:
            return value
        bad = _describe_bad_chars(value)
        shown = value if len(value) <= 40 else value[:37] + "..."
        reason = f" (contains {bad})" if bad else ""
        raise ValueError(f"{kind} must be {form}, e.g. {example!r}; got {shown!r}{reason}")

    return AfterValidator(check)


AppName = Annotated[
    str,
    identifier_rule(
        "app name",
        r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
        "1-63 lower-case letters, digits or dashes, not starting or ending with a dash",
        "web",
        63,
    ),
]
MachineId = Annotated[
    str,
    identifier_rule(
        "machine id", r"[a-z0-9]+", "lower-case letters and digits", "3d8d9015b23489", 64
    ),
]
VolumeId = Annotated[
    str,
    identifier_rule(
        "volume id", r"vol_[a-z0-9]+", "'vol_' then letters and digits", "vol_abc123", 64
    ),
]
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ENV_FORM = "letters, digits and underscores, not starting with a digit (at most 256)"
SecretName = Annotated[
    str,
    identifier_rule(
        "secret name", _ENV_NAME, f"an environment variable name: {_ENV_FORM}", "DATABASE_URL", 256
    ),
]
EnvName = Annotated[
    str, identifier_rule("environment variable name", _ENV_NAME, _ENV_FORM, "LOG_LEVEL", 256)
]
"""A name a process environment can hold and a shell can read: no '=', NUL, CR/LF or spaces."""


def _env_value(value: str) -> str:
    # A process environment is C strings: a NUL would cut the value short on the machine.
    if "\x00" in value:
        raise ValueError("an environment variable value cannot contain a NUL character")
    return value


EnvValue = Annotated[str, AfterValidator(_env_value)]
EnvMap = dict[EnvName, EnvValue]
"""Environment variables: validated names to values."""
OrgSlug = Annotated[
    str,
    identifier_rule(
        "org slug",
        r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
        "lower-case letters, digits or dashes (or 'personal')",
        "personal",
        63,
    ),
]
Region = Annotated[
    str,
    identifier_rule("region", r"[a-z]{3}", "a three-letter Fly region code", "ord", 3),
]
VolumeName = Annotated[
    str,
    identifier_rule(
        "volume name",
        r"[a-z0-9_]+",
        "up to 30 lower-case letters, digits or underscores",
        "data",
        30,
    ),
]
MachineName = Annotated[
    str,
    identifier_rule(
        "machine name",
        r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?",
        "letters, digits, dashes or underscores",
        "web-1",
        63,
    ),
]
LeaseNonce = Annotated[
    str,
    identifier_rule(
        "lease nonce", r"[A-Za-z0-9_-]+", "the nonce returned by fly_acquire_lease", "a1b2c3", 256
    ),
]
VersionId = Annotated[
    str,
    identifier_rule(
        "version", r"[A-Za-z0-9]+", "a machine version id", "01J5X2N7M0000000000000000", 64
    ),
]
NetworkName = Annotated[
    str,
    identifier_rule(
        "network name",
        r"[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?",
        "lower-case letters, digits, dashes or underscores",
        "backend-net",
        63,
    ),
]
"""A private network's name (no path, no control characters), as ``fly_assign_ip`` takes it."""
