"""The Go library's attenuation vectors, reproduced byte for byte.

Data: superfly/macaroon-elixir ``test/vectors.json`` (see VECTORS.md beside this file).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from fly_tools.macaroons import Unknown, append_encoded, attenuate, decode_set, parse_header

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors.json").read_text())
LOCATION: str = VECTORS["location"]
CASES = [
    (base, packed, expected)
    for base, table in VECTORS["attenuation"].items()
    for packed, expected in table.items()
]


def test_there_are_at_least_the_eighteen_cases() -> None:
    assert len(CASES) >= 18


@pytest.mark.parametrize(("base", "packed", "expected"), CASES, ids=[c[1] for c in CASES])
def test_appending_an_encoded_caveat_set_gives_go_s_header(
    base: str, packed: str, expected: str
) -> None:
    assert append_encoded(base, base64.b64decode(packed), location=LOCATION) == expected


@pytest.mark.parametrize(("base", "packed", "expected"), CASES, ids=[c[1] for c in CASES])
def test_typed_caveats_read_back_give_the_same_header(
    base: str, packed: str, expected: str
) -> None:
    caveats = decode_set(base64.b64decode(packed))
    assert attenuate(base, caveats, location=LOCATION) == expected


@pytest.mark.parametrize("name", sorted(VECTORS["macaroons"]))
def test_every_vector_token_reads_and_verifies_with_the_key(name: str) -> None:
    from fly_tools.macaroons import decode

    header = VECTORS["macaroons"][name]
    ((_, macaroon),) = parse_header(header)
    assert macaroon is not None
    assert "fm2_" + base64.b64encode(macaroon.encode()).decode() == header.split()[1]
    if not macaroon.is_proof:  # attestations sit in discharges signed by a third party
        assert macaroon.verify(base64.b64decode(VECTORS["key"]))
    assert not macaroon.verify(b"\0" * 32)
    assert decode(macaroon.encode()) == macaroon


def test_the_organization_vector_is_read_as_a_typed_caveat() -> None:
    from fly_tools.macaroons import Organization

    (caveat,) = decode_set(base64.b64decode(VECTORS["caveats"]["Organization"]))
    assert caveat == Organization(id=123, mask=0b11111)


def test_user_defined_caveats_are_kept_as_unknown() -> None:
    (caveat,) = decode_set(base64.b64decode(VECTORS["caveats"]["Struct"]))
    assert isinstance(caveat, Unknown)
