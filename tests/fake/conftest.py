"""Fixtures for the fake's tests; every response the fake gives is checked against the spec."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.openapi import default_checker


@pytest.fixture(autouse=True)
def _spec_checked_responses(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every FakeFly made in these tests validates each response against the OpenAPI spec.

    A mismatch raises inside the fake; the check after the test also catches one that a
    client or the HTTP server swallowed.
    """
    monkeypatch.setattr(FakeFly, "validate_responses", True)
    checker = default_checker()
    before = len(checker.found)
    yield
    assert checker.found[before:] == []


@pytest.fixture
def fake() -> FakeFly:
    """A fake holding the demo world."""
    return FakeFly.demo()


def raw_client(fake: FakeFly, token: str | None, scheme: str = "Bearer") -> httpx.Client:
    """A plain httpx client on the fake, authenticated with ``token`` (or not at all)."""
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return httpx.Client(base_url=BASE_URL + "/v1", transport=fake.transport(), headers=headers)


@pytest.fixture
def http(fake: FakeFly) -> Iterator[httpx.Client]:
    """A plain httpx client with the org token, for wire-level requests."""
    with raw_client(fake, fake.tokens["org"]) as client:
        yield client
