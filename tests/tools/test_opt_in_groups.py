"""New groups are opted into: the default toolkit stays the reviewed default set of tools."""

from __future__ import annotations

import httpx
import pytest

from fly_tools import ENDPOINTS, FlyClient, FlyToolkit
from fly_tools.guards import AgentPolicy
from fly_tools.risk import DEFAULT_GROUPS, GROUPS
from tests.snapshots.schemas import default_names

OPT_IN = [g for g in GROUPS if g not in DEFAULT_GROUPS]


@pytest.fixture
def client() -> FlyClient:
    return FlyClient(
        token="t", transport=httpx.MockTransport(lambda r: httpx.Response(200)), rate_limit=False
    )


def test_every_group_has_records_and_the_default_ones_are_the_reviewed_set() -> None:
    assert {e.group for e in ENDPOINTS.records} == set(GROUPS)
    default = [e for e in ENDPOINTS.records if e.default]
    assert {e.name for e in default} == default_names()  # a change shows in the snapshots
    assert {e.group for e in default} == set(DEFAULT_GROUPS)
    assert all(not e.default for e in ENDPOINTS.records if e.group in OPT_IN)


def test_a_toolkit_that_names_no_groups_offers_only_the_default_tools(client: FlyClient) -> None:
    names = FlyToolkit(client=client, scope="org").tool_names
    assert names == [e.name for e in ENDPOINTS.records if e.default]
    assert set(names) == default_names()


@pytest.mark.parametrize("group", OPT_IN)
def test_each_new_group_is_offered_when_named(client: FlyClient, group: str) -> None:
    names = FlyToolkit(client=client, scope="org", groups=[group]).tool_names
    assert names == [e.name for e in ENDPOINTS.in_group(group)]  # type: ignore[arg-type]


def test_include_names_one_opt_in_tool(client: FlyClient) -> None:
    tool = next(e.name for e in ENDPOINTS.records if not e.default and e.read_only)
    toolkit = FlyToolkit(client=client, scope="org", include=["fly_list_apps", tool])
    assert toolkit.tool_names == ["fly_list_apps", tool]


def test_a_policy_opts_in_the_groups_and_tools_it_names(client: FlyClient) -> None:
    group = OPT_IN[0]
    allowed = next(e for e in ENDPOINTS.records if not e.default and e.group != group)
    policy = AgentPolicy(
        agent_id="ops",
        groups={"machines": "read", group: "full"},
        tools={allowed.name: "allow"},
    )
    names = FlyToolkit(client=client, scope="org", policy=policy).tool_names
    in_group = [e.name for e in ENDPOINTS.in_group(group)]
    assert set(in_group) <= set(names)
    assert allowed.name in names
    others = {e.name for e in ENDPOINTS.records if not e.default} - {*in_group, allowed.name}
    assert not others & set(names)


def test_a_policy_that_turns_a_group_off_or_denies_a_tool_opts_nothing_in(
    client: FlyClient,
) -> None:
    group = OPT_IN[0]
    tool = next(e for e in ENDPOINTS.records if not e.default and e.group != group)
    policy = AgentPolicy(
        agent_id="ops",
        groups={"machines": "read", group: "off"},
        tools={tool.name: "deny"},
    )
    names = FlyToolkit(client=client, scope="org", policy=policy).tool_names
    assert all(ENDPOINTS[n].default for n in names)


def test_all_groups_offer_every_operation_an_org_token_may_call(client: FlyClient) -> None:
    names = FlyToolkit(client=client, scope="org", groups=list(GROUPS)).tool_names
    assert names == [e.name for e in ENDPOINTS.records if "org" in e.scopes]
