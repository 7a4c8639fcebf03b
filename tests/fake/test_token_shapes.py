"""The scope check on both answer shapes Fly may send, and failing closed on any other.

Fly's Go server encodes a token's caveats as a bare array of ``{type, body}``
(superfly/macaroon ``caveat_set.go``, ``CaveatSet.MarshalJSON``); the OpenAPI spec says
``{"caveats": [...]}``. ``/tokens/authorize`` validates an access only within an org
(superfly/macaroon ``flyio/access.go``, ``Access.Validate``: "resource unspecified org").
The oracle is the fake's request log: what reached "Fly".
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from fly_tools import FlyToolkit
from fly_tools.client import FlyClient
from fly_tools.client.tokens import UnknownScopeError, caveats_of, scope_from_current_token
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.openapi import SpecChecker, default_checker

SHAPES = ("go", "spec")
WRITE = ("fly_set_secret", {"secret_name": "K1", "value": "v"})


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("scope", ["org", "deploy", "readonly", "machine-exec"])
def test_the_scope_is_read_from_either_shape(shapes: str, scope: str) -> None:
    fake = FakeFly(shapes=shapes)  # type: ignore[arg-type]
    client = fake.client(scope=scope)
    answer = client.current_token()
    authorized = client.authorize({"org_slug": "acme"})
    caveats = authorized["verified_token"]["caveats"]
    assert isinstance(caveats, list if shapes == "go" else dict)
    expected_apps = ("web",) if scope == "deploy" else ()
    assert scope_from_current_token(answer, authorized) == (scope, expected_apps)


@pytest.mark.parametrize("shapes", SHAPES)
def test_a_deploy_toolkit_writes_on_either_shape(shapes: str) -> None:
    fake = FakeFly(shapes=shapes)  # type: ignore[arg-type]
    toolkit = FlyToolkit(client=fake.client(scope="deploy"), scope="deploy", app="web")
    tool = {t.name: t for t in toolkit.get_tools()}[WRITE[0]]
    tool.invoke(WRITE[1])
    sent = [(r.method, r.path) for r in fake.requests]
    assert ("POST", "/v1/tokens/authorize") in sent
    assert sent[-1][0] == "POST"
    assert sent[-1][1].endswith("/secrets/K1")


@pytest.mark.parametrize("shapes", SHAPES)
async def test_a_readonly_token_is_not_taken_for_an_org_token(shapes: str) -> None:
    fake = FakeFly(shapes=shapes)  # type: ignore[arg-type]
    toolkit = FlyToolkit(client=fake.async_client(scope="readonly"), scope="deploy", app="web")
    tool = {t.name: t for t in toolkit.get_tools()}[WRITE[0]]
    message = await tool.ainvoke(
        {"type": "tool_call", "id": "c1", "name": WRITE[0], "args": WRITE[1]}
    )
    assert message.status == "error"
    assert "readonly" in message.content
    assert not [r for r in fake.requests if "/secrets/" in r.path]


def test_the_access_asked_names_the_token_s_org() -> None:
    fake = FakeFly()
    bodies: list[dict[str, Any]] = []
    real = fake.transport()

    def spy(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tokens/authorize"):
            bodies.append(json.loads(request.read()))
        return real.handle_request(request)

    toolkit = FlyToolkit(
        client=FlyClient(
            token=fake.tokens["deploy"],
            base_url="https://api.machines.dev",
            transport=httpx.MockTransport(spy),
            rate_limit=False,
        ),
        scope="deploy",
        app="web",
    )
    {t.name: t for t in toolkit.get_tools()}[WRITE[0]].invoke(WRITE[1])
    assert bodies
    assert bodies[0]["access"] == {"org_slug": "acme"}


@pytest.mark.parametrize(
    "caveats",
    [
        "Organization",  # a string
        {"caveats": {"type": "Organization"}},  # the spec's wrapper around a non-list
        [["Organization", {"mask": "r"}]],  # pairs, not objects
        42,
    ],
)
def test_an_unknown_shape_raises_rather_than_reading_as_no_caveats(caveats: Any) -> None:
    with pytest.raises(UnknownScopeError):
        caveats_of({"verified_token": {"caveats": caveats}})


def _answering(fly: FakeFly, authorize: httpx.Response) -> httpx.MockTransport:
    fake = fly.transport()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tokens/authorize"):
            return authorize
        return fake.handle_request(request)

    return httpx.MockTransport(handler)


def _toolkit(transport: httpx.MockTransport, token: str) -> FlyToolkit:
    client = FlyClient(
        token=token, base_url="https://api.machines.dev", transport=transport, rate_limit=False
    )
    return FlyToolkit(client=client, scope="deploy", app="web")


@pytest.mark.parametrize(
    "authorize",
    [
        httpx.Response(200, json={"verified_token": {"caveats": "Organization mask r"}}),
        httpx.Response(400, json={"error": "resource unspecified org"}),
        httpx.Response(500, json={"error": "boom"}),
    ],
    ids=["unknown-shape", "400", "500"],
)
def test_an_unknown_scope_refuses_writes_and_allows_reads(authorize: httpx.Response) -> None:
    fake = FakeFly.demo()
    sent: list[str] = []
    inner = _answering(fake, authorize)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return inner.handle_request(request)

    toolkit = _toolkit(httpx.MockTransport(handler), fake.tokens["deploy"])
    tools = {t.name: t for t in toolkit.get_tools()}
    message = tools[WRITE[0]].invoke(
        {"type": "tool_call", "id": "w1", "name": WRITE[0], "args": WRITE[1]}
    )
    assert message.status == "error"
    assert "could not be checked" in message.content
    assert "reads still work" in message.content
    assert not [s for s in sent if "/secrets/" in s]
    read = tools["fly_list_machines"].invoke(
        {"type": "tool_call", "id": "r1", "name": "fly_list_machines", "args": {}}
    )
    assert read.status != "error"


def _verify_raw(fake: FakeFly, route: str, body: dict[str, Any]) -> httpx.Response:
    token = fake.tokens["org"]
    with httpx.Client(base_url=BASE_URL + "/v1", transport=fake.transport()) as client:
        return client.post(route, json={"header": token, **body}, headers={"Authorization": token})


def _bytes_of(value: Any, shapes: str) -> bytes:
    if shapes == "go":
        assert isinstance(value, str)
        return base64.b64decode(value, validate=True)
    assert isinstance(value, list)
    assert all(isinstance(b, int) for b in value)
    return bytes(value)


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize(
    ("route", "operation", "body"),
    [
        ("/tokens/authenticate", "Tokens_authenticate", {}),
        ("/tokens/authorize", "Tokens_authorize", {"access": {"org_slug": "acme"}}),
    ],
)
def test_a_verified_token_s_bytes_are_base64_from_go_and_integers_in_the_spec(
    shapes: str, route: str, operation: str, body: dict[str, Any]
) -> None:
    # superfly/macaroon nonce.go: the Nonce's KID and Rnd are []byte, which Go's
    # encoding/json writes as base64 text; the spec types them as integer arrays.
    fake = FakeFly(shapes=shapes, validate=True)  # type: ignore[arg-type]
    answer = _verify_raw(fake, route, body)
    assert answer.status_code == 200
    verified = answer.json()[0] if isinstance(answer.json(), list) else answer.json()
    verified = verified.get("verified_token", verified)
    kid = _bytes_of(verified["nonce"]["kid"], shapes)
    rnd = _bytes_of(verified["nonce"]["rnd"], shapes)
    assert (len(kid), len(rnd), rnd[:8]) == (8, 16, kid)
    assert len(_bytes_of(verified["permission_token"], shapes)) == 32
    assert fake.spec_violations == []
    checker = default_checker()
    assert checker.problems(operation, 200, "application/json", answer.content) == []


def test_the_spec_checker_refuses_bytes_that_are_neither_form() -> None:
    fake = FakeFly()
    answer = _verify_raw(fake, "/tokens/authenticate", {}).json()
    answer[0]["nonce"]["rnd"] = "not base64!"
    raw = json.dumps(answer).encode()
    own = SpecChecker()  # not the shared one, whose findings fail the test afterwards
    problems = own.problems("Tokens_authenticate", 200, "application/json", raw)
    assert problems
    assert "rnd" in problems[0]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("name", ["fly_authenticate_token", "fly_authorize_token"])
def test_the_token_tools_read_either_form_and_withhold_the_permission_token(
    shapes: str, name: str
) -> None:
    fake = FakeFly(shapes=shapes)  # type: ignore[arg-type]
    kit = FlyToolkit(client=fake.client(scope="org"), scope="org", include=[name])
    args = {"org_slug": "acme", "action": "r"} if name == "fly_authorize_token" else {}
    message = kit.get_tools()[0].invoke(
        {"type": "tool_call", "id": "t", "name": name, "args": args}
    )
    assert message.status == "success"
    answer = message.artifact if isinstance(message.artifact, dict) else message.artifact[0]
    verified = answer.get("verified_token", answer)
    assert verified["permission_token"] == "[withheld]"
    assert len(_bytes_of(verified["nonce"]["rnd"], shapes)) == 16
    assert fake.tokens["org"].removeprefix("FlyV1 ") not in message.content + str(message.artifact)
