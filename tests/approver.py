"""One approver key for tests that answer stored approvals as a person does (signed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from fly_tools.approvals.signing import public_text

APPROVER_KEY = Ed25519PrivateKey.generate()
"""The approver's private key: only the tests' "person" signs with it."""
APPROVER = public_text(APPROVER_KEY.public_key())
"""What the toolkits are configured with."""


def install_approver(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The approver's key file (mode 0600) and the toolkits' trusted keys, in the environment:
    ``fly-tools approvals approve`` signs with it, ``StoreApproval()`` trusts it."""
    path = tmp_path_factory.mktemp("approver") / "approver.key"
    path.write_bytes(APPROVER_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    path.chmod(0o600)
    monkeypatch.setenv("FLY_TOOLS_APPROVER_KEY", str(path))
    monkeypatch.setenv("FLY_TOOLS_APPROVER_KEYS", APPROVER)
    return path


@pytest.fixture
def approver_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """:func:`install_approver` as a fixture."""
    return install_approver(tmp_path_factory, monkeypatch)
