"""Scrubbing by value, in every encoding, on decoded data: never re-parsed, never raising."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from fly_tools.guards import scrub, scrub_value, shape_refusal
from fly_tools.guards.redact import MAX_DEPTH, REDACTED

secrets = st.text(min_size=6, max_size=40).filter(lambda s: s.strip() == s and "," not in s)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _plant(value: Any, secret: str) -> Any:
    return {"payload": value, "echo": f"before {secret} after", secret: [secret]}


@given(secret=secrets, value=json_like)
def test_a_planted_secret_never_survives_in_the_serialized_result(secret: str, value: Any) -> None:
    scrubbed = scrub_value(_plant(value, secret), [secret])
    for ascii_only in (True, False):
        text = json.dumps(scrubbed, ensure_ascii=ascii_only)
        assert json.dumps(secret, ensure_ascii=ascii_only)[1:-1] not in text


@given(secret=secrets)
def test_every_encoding_of_a_secret_is_scrubbed_from_text(secret: str) -> None:
    forms = [secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]]
    try:
        data = secret.encode()
    except UnicodeEncodeError:
        data = None
    if data is not None:
        forms += [quote(data, safe=""), base64.b64encode(data).decode()]
    for form in forms:
        assert form not in scrub(f"x {form} y", [secret]), form


def test_a_secret_that_looks_like_json_breaks_nothing() -> None:
    planted = '{"app_name": "'
    value = {"app_name": "web", "note": f"says {planted}", "list": [planted]}
    assert scrub_value(value, [planted]) == {
        "app_name": "web",
        "note": f"says {REDACTED}",
        "list": [REDACTED],
    }


def test_pem_lines_are_scrubbed_alone_but_not_their_armour() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----"
    shown = scrub("got: MIIEvQIBADANBgkqhkiG9w0B; -----BEGIN PRIVATE KEY-----", [key])
    assert shown == f"got: {REDACTED}; -----BEGIN PRIVATE KEY-----"


def test_shape_refusal_measures_any_depth_without_recursion() -> None:
    value: Any = "leaf"
    for _ in range(100_000):
        value = [value]
    assert "deeper than" in (shape_refusal({"x": value}) or "")
    shallow: Any = "leaf"
    for _ in range(MAX_DEPTH - 2):
        shallow = {"a": shallow}
    assert shape_refusal({"x": shallow}) is None
    assert "invalid Unicode" in (shape_refusal({"x": ["ok", "\ud800"]}) or "")
    assert "more than" in (shape_refusal({"x": list(range(50_000))}) or "")
