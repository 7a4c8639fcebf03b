"""Fixtures for the guardrail tests: valid arguments for every endpoint, action requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.guards import ActionRequest, describe_action, redact_args, target_of
from fly_tools.models.args import FlyArgs
from tests.fake.tour_certificates import FULLCHAIN, PRIVATE_KEY

SECRET_VALUE = "s3cr3t-value-do-not-leak"
"""A secret value: tests search every output for it."""

TOKEN = "fm2_guards-test-token-91c2e7"
"""A Fly token: tests search every output for it."""

SAMPLE: dict[str, Any] = {
    "app_name": "web",
    "machine_id": "3d8d9015b23489",
    "volume_id": "vol_abc123",
    "secret_name": "DATABASE_URL",
    "org_slug": "personal",
    "value": SECRET_VALUE,
    "command": ["ls", "-la", "/data"],
    "signal": "SIGHUP",
    "lease_nonce": "n0nce",
    "size_gb": 20,
    "name": "data",
    "region": "ord",
    "hostname": "www.example.com",
    "ip": "137.66.1.2",
    "type": "v6",
    "fullchain": FULLCHAIN,
    "private_key": PRIVATE_KEY,
    "limit_mb": 128,
    "amount_mb": 8,
    "key": "role",
    "changes": {"role": "primary"},
    "plaintext": "hello",
    "ciphertext": "aGVsbG8gd29ybGQgY2lwaGVydGV4dA==",
    "signature": "c2lnbmF0dXJlLWJ5dGVzLTMyLWxvbmctLS0tLS0tLQ==",
    "values": {"API_KEY": SECRET_VALUE},
}
PER_TOOL: dict[str, dict[str, Any]] = {
    # A metadata value is plain text a person approves, not a secret.
    "fly_set_machine_metadata_key": {"value": "primary"},
    "fly_update_volume": {"snapshot_retention": 7},
    "fly_set_secret_key": {
        "type": "hs256",
        "value": "c2VjcmV0LWtleS1ieXRlcy0zMi1sb25nLS0tLS0tLS0=",
    },
    "fly_generate_secret_key": {"type": "hs256"},
    "fly_update_secrets": {"values": {"API_KEY": SECRET_VALUE}},
}


def sample_args(endpoint: Endpoint, **overrides: Any) -> FlyArgs:
    """Valid arguments for ``endpoint``: its required fields from ``SAMPLE``, plus overrides."""
    data = {
        name: SAMPLE[name]
        for name, field in endpoint.args_model.model_fields.items()
        if field.is_required()
    }
    if endpoint.name in ("fly_create_machine", "fly_update_machine"):
        data["image"] = "nginx:1.27"
    data.update(PER_TOOL.get(endpoint.name, {}))
    data.update(overrides)
    return endpoint.args_model.model_validate(data)


def make_request(tool: str, *, agent_id: str | None = "ops-bot", **overrides: Any) -> ActionRequest:
    """The action request the toolkit would build for ``tool`` with sample arguments."""
    endpoint = ENDPOINTS[tool]
    args = sample_args(endpoint, **overrides)
    return ActionRequest(
        tool=tool,
        group=endpoint.group,
        risk=endpoint.risk,
        args=redact_args(endpoint, args),
        target=target_of(endpoint, args),
        description=describe_action(endpoint, args),
        agent_id=agent_id,
    )


class ScriptedInput:
    """Stands in for ``input()``: answers in order, then end of input."""

    def __init__(self, *answers: str) -> None:
        self._answers: Iterator[str] = iter(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        try:
            return next(self._answers)
        except StopIteration:
            raise EOFError from None


@pytest.fixture
def request_for() -> Callable[..., ActionRequest]:
    return make_request


@pytest.fixture
def args_for() -> Callable[..., FlyArgs]:
    return sample_args


@pytest.fixture
def scripted() -> Callable[..., ScriptedInput]:
    return ScriptedInput


@pytest.fixture
def secret_value() -> str:
    return SECRET_VALUE


@pytest.fixture
def token() -> str:
    return TOKEN
