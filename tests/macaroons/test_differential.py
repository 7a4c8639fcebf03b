"""Differential: for all 75 operations under each of eight policies, Fly's verdict (the fake's caveat
check) on the token the toolkit would send agrees with the toolkit's own verdict.

The token sent for an allowed call is its one-call token (a gated one after its approval
is redeemed); for a refused call, no one-call token is made, so the toolkit's reach token
is what anyone holding the client has: sent straight to the fake, it is refused.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fly_tools import ENDPOINTS, GROUPS, AgentPolicy, Endpoint, FlyToolkit, approve_all
from fly_tools.macaroons.narrow import Narrowing
from fly_tools.macaroons.toolkit import Attenuation
from fly_tools.macaroons.transport import NarrowingTransport
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.auth import access_of, first_denial
from fly_tools.testing.world import VOL_DATA, WEB_1

PATH_VALUES = {
    "app_name": "web",
    "machine_id": WEB_1,
    "volume_id": VOL_DATA,
    "secret_name": "X",
    "org_slug": "acme",
    "hostname": "www.example.com",
    "ip": "137.66.1.2",
    "key": "role",
}
EXEC_BODY = {"command": ["ls"]}
POLICIES: dict[str, dict[str, Any]] = {
    "readonly": {"scope": "readonly"},
    "deploy bound to web": {"scope": "deploy", "app": "web"},
    "max-risk read": {"scope": "org", "max_risk": "read"},
    "max-risk write": {"scope": "org", "max_risk": "write"},
    "max-risk disruptive": {"scope": "org", "max_risk": "disruptive"},
    "org, destructive gated": {"scope": "org"},
    "policy: machines read, control full, exec denied": {
        "scope": "org",
        "policy": AgentPolicy(
            agent_id="ops-bot",
            groups={"machines": "read", "control": "full"},
            tools={"fly_exec_machine": "deny"},
        ),
    },
    "policy: allow list": {
        "scope": "org",
        "app": "web",
        "policy": AgentPolicy(
            agent_id="janitor", tools={"fly_list_volumes": "allow", "fly_delete_volume": "allow"}
        ),
    },
}


# These only need a valid token, in the package's reading: reading the token itself and
# the platform's regions. No caveat refuses them, so a policy that leaves them out is
# held by the toolkit alone (they change nothing and reveal nothing of the org).
TOKEN_ONLY = {
    "fly_list_regions",
    "fly_get_placements",
    "fly_get_current_token",
    "fly_authorize_token",
    "fly_authenticate_token",
}


def test_the_calls_no_caveat_can_refuse_are_exactly_the_token_only_reads() -> None:
    found = {e.name for e in ENDPOINTS.records if e.access and e.access.resource == "token"}
    bare = {e.name for e in ENDPOINTS.records if e.access and not e.access.bits}
    assert bare == TOKEN_ONLY <= found
    assert all(ENDPOINTS[name].read_only for name in TOKEN_ONLY)


def kit_for(fake: FakeFly, policy: dict[str, Any]) -> FlyToolkit:
    # The user's token is an org token whatever the toolkit declares: the narrowing alone
    # must hold the line.
    return FlyToolkit(
        client=fake.client(),
        groups=list(GROUPS),
        check_scope=False,
        confirm=approve_all,
        attenuate=Attenuation(clock=fake.clock.now),
        **policy,
    )


def narrowing_of(kit: FlyToolkit) -> Narrowing:
    transport = kit._runtime.base_client._transport
    assert isinstance(transport, NarrowingTransport)
    return transport.narrowing


def request_for(endpoint: Endpoint) -> httpx.Request:
    url = BASE_URL + "/v1" + endpoint.render_path(PATH_VALUES)
    body = EXEC_BODY if endpoint.name == "fly_exec_machine" else None
    return httpx.Request(endpoint.method, url, json=body)


def fly_allows(fake: FakeFly, header: str, endpoint: Endpoint) -> bool:
    token = fake._token_book.authenticate(header)
    path = {p: PATH_VALUES[p] for p in endpoint.path_params}
    body = json.dumps(EXEC_BODY).encode() if endpoint.name == "fly_exec_machine" else None
    access = access_of(fake.state, token, endpoint, path, body)
    return first_denial(token.caveats, access, endpoint) is None


def header_sent(fake: FakeFly, kit: FlyToolkit, endpoint: Endpoint) -> str:
    narrowing = narrowing_of(kit)
    path = {p: PATH_VALUES[p] for p in endpoint.path_params}
    if endpoint.name in kit.tool_names and kit.gated(endpoint.name):
        narrowing.permit(endpoint, path)  # what a redeemed approval does
    ids = {name: app.internal_numeric_id for name, app in fake.state.apps.items()}
    return narrowing.header_for(request_for(endpoint), lambda app: ids.get(app or ""))


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_fly_s_verdict_agrees_with_the_toolkit_s_for_every_operation(policy: str) -> None:
    fake = FakeFly.demo()
    kit = kit_for(fake, POLICIES[policy])
    disagreements = [
        (endpoint.name, allowed)
        for endpoint in ENDPOINTS.records
        for allowed in [endpoint.name in kit.tool_names]
        if fly_allows(fake, header_sent(fake, kit, endpoint), endpoint) != allowed
        and not (allowed is False and endpoint.name in TOKEN_ONLY)
    ]
    assert len(ENDPOINTS) == 75
    assert disagreements == []


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_the_reach_token_sent_straight_to_the_fake_is_refused_where_the_policy_refuses(
    policy: str,
) -> None:
    fake = FakeFly.demo()
    kit = kit_for(fake, POLICIES[policy])
    narrowing = narrowing_of(kit)
    ids = {name: app.internal_numeric_id for name, app in fake.state.apps.items()}
    own = "FlyV1 " + kit._runtime.base_client.token.reveal()
    refused = [
        e
        for e in ENDPOINTS.records
        if (e.name not in kit.tool_names or kit.gated(e.name)) and e.name not in TOKEN_ONLY
    ]
    assert refused
    answered: dict[str, int] = {}
    with httpx.Client(transport=fake.transport()) as http:
        for endpoint in refused:
            reach = narrowing.header_for(request_for(endpoint), lambda app: ids.get(app or ""))
            for header in (reach, own):
                request = request_for(endpoint)
                request.headers["Authorization"] = header
                answered[endpoint.name] = http.send(request).status_code
                assert answered[endpoint.name] == 403, (endpoint.name, header == own)
    assert fake.state.apps["web"].machines[WEB_1].state == "started"
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None


def test_a_one_call_token_reaches_nothing_but_its_own_kind_of_call() -> None:
    fake = FakeFly.demo()
    kit = kit_for(fake, POLICIES["org, destructive gated"])
    reached_beyond: list[tuple[str, str]] = []
    for endpoint in ENDPOINTS.records:
        header = header_sent(fake, kit, endpoint)
        for other in ENDPOINTS.records:
            need, asked = endpoint.access, other.access
            assert need is not None
            assert asked is not None
            # An org-wide access names only the org, as a token-wide one does: Fly's
            # access cannot tell them apart, so they count as one kind.
            kind = {"token": "org"}
            same = (kind.get(need.resource, need.resource), need.bits) == (
                kind.get(asked.resource, asked.resource),
                asked.bits,
            )
            # Calls on the token itself (verify it; mint an OIDC or KMS token) name no
            # resource at all: any valid token with their action bit may make them.
            free = asked.resource == "token" and asked.bits & ~need.bits == 0
            if not (same or free or other.name == endpoint.name) and fly_allows(
                fake, header, other
            ):
                reached_beyond.append((endpoint.name, other.name))
    assert reached_beyond == []
