"""Client settings: where the token and base URL come from, and the headers they become."""

from __future__ import annotations

import pickle
from typing import Any

import httpx
import pytest

from fly_tools.client import ConfigurationError, FlyClient
from fly_tools.client.settings import (
    SecretToken,
    authorization_header,
    resolve_base_url,
    resolve_token,
)


def sent_request(token: str | None = None, **options: Any) -> httpx.Request:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"apps": []})

    with FlyClient(token, transport=httpx.MockTransport(handler), **options) as client:
        client.call("fly_list_apps", {"org_slug": "personal"})
    return seen[0]


# ---------------------------------------------------------------- token


def test_explicit_token_beats_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FLY_API_TOKEN", "from-env-api")
    assert sent_request("explicit").headers["authorization"] == "Bearer explicit"


def test_fly_api_token_beats_fly_access_token(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FLY_API_TOKEN", "api-token")
    clean_env.setenv("FLY_ACCESS_TOKEN", "access-token")
    assert sent_request().headers["authorization"] == "Bearer api-token"


def test_fly_access_token_used_when_alone(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FLY_API_TOKEN", "  ")
    clean_env.setenv("FLY_ACCESS_TOKEN", "access-token")
    assert sent_request().headers["authorization"] == "Bearer access-token"


def test_missing_token_explains_where_to_get_one(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError) as caught:
        FlyClient()
    text = str(caught.value)
    for needed in (
        "FLY_API_TOKEN",
        "FLY_ACCESS_TOKEN",
        "fly tokens create deploy",
        "fly tokens create org",
    ):
        assert needed in text


def test_blank_explicit_token_is_rejected(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        FlyClient("   ")


def test_malformed_token_is_rejected_without_being_echoed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_token("abc def-secret-part", {})
    assert "secret-part" not in str(caught.value)


@pytest.mark.parametrize(
    ("token", "header"),
    [
        ("plain-token-123", "Bearer plain-token-123"),
        ("fm1r_abc", "FlyV1 fm1r_abc"),
        ("fm1a_abc", "FlyV1 fm1a_abc"),
        ("fm2_abc", "FlyV1 fm2_abc"),
        ("fm2_a,fm2_b", "FlyV1 fm2_a,fm2_b"),
        ("fm2_a, fm1r_b", "FlyV1 fm2_a,fm1r_b"),
        ("Bearer plain-token-123", "Bearer plain-token-123"),
        ("bearer   plain-token-123", "Bearer plain-token-123"),
        ("FlyV1 fm2_abc", "FlyV1 fm2_abc"),
        ("FlyV1 fm2_a,fm2_b", "FlyV1 fm2_a,fm2_b"),
        ("FlyV1 fm2_a,FlyV1 fm2_b", "FlyV1 fm2_a,fm2_b"),
        ("  fm2_abc\n", "FlyV1 fm2_abc"),
    ],
)
def test_authorization_header_forms(clean_env: pytest.MonkeyPatch, token: str, header: str) -> None:
    assert authorization_header(resolve_token(token, {})) == header
    assert sent_request(token).headers["authorization"] == header


def test_secret_token_hides_its_value() -> None:
    secret = SecretToken("fm2_very-secret")
    assert "very-secret" not in repr(secret)
    assert "very-secret" not in str(secret)
    assert "very-secret" not in f"{secret}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == "fm2_very-secret"


def test_user_agent_names_the_package(clean_env: pytest.MonkeyPatch) -> None:
    assert sent_request("t0ken-abc").headers["user-agent"].startswith("fly-tools/")


# ---------------------------------------------------------------- base URL


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://api.machines.dev/v1"),
        ("https://api.machines.dev", "https://api.machines.dev/v1"),
        ("https://api.machines.dev/", "https://api.machines.dev/v1"),
        ("https://api.machines.dev/v1", "https://api.machines.dev/v1"),
        ("https://api.machines.dev/v1/", "https://api.machines.dev/v1"),
        ("https://api.machines.dev/v1//", "https://api.machines.dev/v1"),
        ("http://localhost:4280/proxy", "http://localhost:4280/proxy/v1"),
        (" http://127.0.0.1:8080 ", "http://127.0.0.1:8080/v1"),
    ],
)
def test_v1_is_appended_exactly_once(given: str | None, expected: str) -> None:
    assert resolve_base_url(given, internal=False, env={}) == expected


def test_internal_uses_the_private_network_address() -> None:
    got = resolve_base_url(None, internal=True, env={"FLY_API_HOSTNAME": "https://x.test"})
    assert got == "http://_api.internal:4280/v1"


def test_fly_api_hostname_beats_fly_flaps_base_url() -> None:
    env = {"FLY_API_HOSTNAME": "https://a.test", "FLY_FLAPS_BASE_URL": "https://b.test"}
    assert resolve_base_url(None, internal=False, env=env) == "https://a.test/v1"


def test_fly_flaps_base_url_used_when_alone() -> None:
    env = {"FLY_FLAPS_BASE_URL": "https://b.test/v1"}
    assert resolve_base_url(None, internal=False, env=env) == "https://b.test/v1"


def test_explicit_base_url_beats_environment() -> None:
    env = {"FLY_API_HOSTNAME": "https://a.test"}
    assert resolve_base_url("https://c.test", internal=False, env=env) == "https://c.test/v1"


def test_base_url_and_internal_together_are_ambiguous() -> None:
    with pytest.raises(ConfigurationError, match="internal"):
        resolve_base_url("https://c.test", internal=True, env={})


@pytest.mark.parametrize(
    "bad", ["api.machines.dev", "ftp://x.test", "https://", "https://x.test/?a=1", "http://[::1"]
)
def test_malformed_base_url_is_rejected(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        resolve_base_url(bad, internal=False, env={})


def test_base_url_with_credentials_is_rejected_without_echoing_them() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_base_url("https://user:pa55word@x.test", internal=False, env={})
    assert "pa55word" not in str(caught.value)


def test_env_base_url_problem_names_its_source() -> None:
    with pytest.raises(ConfigurationError, match="FLY_FLAPS_BASE_URL"):
        resolve_base_url(None, internal=False, env={"FLY_FLAPS_BASE_URL": "nope"})


def test_requests_go_to_base_plus_v1_plus_path(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FLY_API_HOSTNAME", "https://flaps.test/v1/")
    request = sent_request("t0ken-abc")
    assert str(request.url) == "https://flaps.test/v1/apps?org_slug=personal"


def test_internal_client_requests_go_to_the_private_address(
    clean_env: pytest.MonkeyPatch,
) -> None:
    request = sent_request("t0ken-abc", internal=True)
    assert str(request.url).startswith("http://_api.internal:4280/v1/apps?")


def test_client_base_url_property(clean_env: pytest.MonkeyPatch) -> None:
    client = FlyClient.from_env(token="t0ken-abc", base_url="https://x.test")
    assert client.base_url == "https://x.test/v1"
    client.close()


@pytest.mark.parametrize("options", [{"max_retries": -1}, {"timeout": 0}])
def test_nonsense_options_are_rejected(
    clean_env: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError):
        FlyClient("t0ken-abc", **options)
