"""Redaction: secret values never leave as arguments or text."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import REDACTED, contains_redacted, redact_args, scrub
from fly_tools.models.args import FlyArgs


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_endpoint_redacts_to_json(name: str, args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS[name]
    args = args_for(endpoint)
    redacted = redact_args(endpoint, args)
    text = json.dumps(redacted)
    assert "s3cr3t-value-do-not-leak" not in text
    assert redacted.get("app_name") == getattr(args, "app_name", None)
    assert None not in redacted.values()


def test_secret_value_is_redacted_validated_or_raw(
    args_for: Callable[..., FlyArgs], secret_value: str
) -> None:
    endpoint = ENDPOINTS["fly_set_secret"]
    raw = {"app_name": "web", "secret_name": "DATABASE_URL", "value": secret_value}
    assert redact_args(endpoint, args_for(endpoint))["value"] == REDACTED
    assert redact_args(endpoint, raw) == {**raw, "value": REDACTED}


def test_exec_stdin_is_redacted_and_command_is_kept(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_exec_machine"]
    args = args_for(endpoint, stdin="password123\n")
    redacted = redact_args(endpoint, args)
    assert redacted["stdin"] == REDACTED
    assert redacted["command"] == ["ls", "-la", "/data"]


def test_secret_looking_env_values_are_redacted_anywhere_in_machine_config(
    args_for: Callable[..., FlyArgs], secret_value: str
) -> None:
    endpoint = ENDPOINTS["fly_create_machine"]
    args = args_for(
        endpoint,
        env={"API_TOKEN": secret_value, "LOG_LEVEL": "debug"},
        machine_config={
            "env": {"DB_PASSWORD": secret_value, "PORT": "8080"},
            "processes": [{"env": {"stripe_key": secret_value}, "cmd": ["run"]}],
            "files": [{"guest_path": "/etc/app.conf", "raw_value": "c2VjcmV0"}],
        },
    )
    redacted = redact_args(endpoint, args)
    assert secret_value not in json.dumps(redacted)
    assert redacted["env"] == {"API_TOKEN": REDACTED, "LOG_LEVEL": "debug"}
    assert redacted["machine_config"]["env"] == {"DB_PASSWORD": REDACTED, "PORT": "8080"}
    assert redacted["machine_config"]["processes"][0]["env"] == {"stripe_key": REDACTED}
    assert redacted["machine_config"]["files"][0]["raw_value"] == REDACTED
    assert redacted["machine_config"]["files"][0]["guest_path"] == "/etc/app.conf"


def test_passwords_inside_urls_are_redacted(args_for: Callable[..., FlyArgs]) -> None:
    endpoint = ENDPOINTS["fly_exec_machine"]
    args = args_for(endpoint, command=["psql", "postgres://admin:hunter2@db.internal:5432/app"])
    command = redact_args(endpoint, args)["command"]
    assert command == ["psql", f"postgres://admin:{REDACTED}@db.internal:5432/app"]


def test_scrub_removes_token_parts_and_secret_values(token: str, secret_value: str) -> None:
    macaroon = f"{token},fm2_second-part-of-token"
    text = f"401 for FlyV1 {macaroon}; then fm2_second-part-of-token; value {secret_value}"
    scrubbed = scrub(text, [SecretStr(macaroon), secret_value, ""])
    assert token not in scrubbed
    assert "fm2_second-part-of-token" not in scrubbed
    assert secret_value not in scrubbed
    assert scrubbed.startswith("401 for FlyV1 [redacted]")


def test_scrub_replaces_the_longest_secret_whole() -> None:
    assert scrub("abc-long-secret", ["abc", "abc-long-secret"]) == REDACTED


def test_contains_redacted_finds_the_placeholder_at_any_depth() -> None:
    assert contains_redacted({"a": [1, {"b": f"x{REDACTED}"}]})
    assert not contains_redacted({"a": [1, {"b": "x"}], "c": None})
