"""Redaction for the guards: :mod:`fly_tools.redaction` under its older import path."""

from __future__ import annotations

from fly_tools.redaction import (
    MAX_DEPTH,
    MAX_NODES,
    REDACTED,
    TOO_DEEP,
    contains_redacted,
    encodings_of,
    redact_args,
    redact_unknown,
    scrub,
    scrub_value,
    secret_values_in,
    shape_refusal,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "REDACTED",
    "TOO_DEEP",
    "contains_redacted",
    "encodings_of",
    "redact_args",
    "redact_unknown",
    "scrub",
    "scrub_value",
    "secret_values_in",
    "shape_refusal",
]
