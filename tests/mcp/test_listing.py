"""``tools/list`` is exactly the toolkit: names, lean schemas, descriptions, titles and all four hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import Tool

from fly_tools.catalogue import ENDPOINTS
from fly_tools.guards import AgentPolicy
from fly_tools.mcp import build_server
from fly_tools.risk import SCOPES, RiskTier
from fly_tools.testing import FakeFly
from fly_tools.toolkit import FlyToolkit
from tests.mcp.conftest import approve

POLICY = Path(__file__).resolve().parents[2] / "examples" / "ops-bot-policy.toml"
HINTS = ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint")


def toolkits() -> list[tuple[str, str | None, AgentPolicy | None]]:
    """Every scope × (unbound, bound to web) × (no policy, the ops-bot policy)."""
    policy = AgentPolicy.from_file(POLICY)
    return [(s, a, p) for s in SCOPES for a in (None, "web") for p in (None, policy)]


async def listed(toolkit: FlyToolkit) -> list[Tool]:
    """What a client that can ask its user (form elicitation) is shown."""
    async with Client(build_server(toolkit), elicitation_callback=approve()) as client:
        return (await client.list_tools()).tools


@pytest.mark.parametrize(("scope", "app", "policy"), toolkits())
async def test_the_list_is_the_toolkit(
    scope: str, app: str | None, policy: AgentPolicy | None
) -> None:
    fake = FakeFly.demo()
    try:
        toolkit = FlyToolkit(
            client=fake.async_client(scope, app), scope=scope, app=app, policy=policy
        )
    except ValueError:
        pytest.skip(f"no tools for {scope} with this policy")  # construction fails closed
    tools = await listed(toolkit)
    expected = toolkit.get_tools()
    assert [t.name for t in tools] == [t.name for t in expected]
    for served, tool in zip(tools, expected, strict=True):
        schema = tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
        lean = {k: v for k, v in schema.items() if k not in ("description", "title")}
        assert served.input_schema == lean  # the description is said once, as the tool's
        assert served.description == tool.description
        assert served.title
        assert served.annotations is not None
        assert served.annotations.title == served.title
        if app is not None:
            assert "app_name" not in served.input_schema.get("properties", {})
    assert fake.requests == []  # listing reads nothing from Fly


async def test_deploy_bound_to_web_lists_29_tools() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.async_client("deploy", "web"), scope="deploy", app="web")
    names = [t.name for t in await listed(toolkit)]
    assert set(names) == {e.name for e in ENDPOINTS.records if e.default and "deploy" in e.scopes}
    assert "fly_list_apps" not in names
    assert "fly_create_app" not in names


def contradictions(tool: Tool) -> list[str]:
    """What is missing from a tool's hints, or disagrees with its tier."""
    hints = tool.annotations
    assert hints is not None
    problems = [f"{tool.name}: {h} missing" for h in HINTS if getattr(hints, h) is None]
    tier = RiskTier.parse((tool.meta or {})["fly-tools/risk"])
    if hints.read_only_hint != (tier is RiskTier.READ):
        problems.append(f"{tool.name}: readOnlyHint {hints.read_only_hint} for {tier.label}")
    if hints.destructive_hint != (tier >= RiskTier.DISRUPTIVE):
        problems.append(f"{tool.name}: destructiveHint {hints.destructive_hint} for {tier.label}")
    return problems


async def test_no_hint_is_missing_or_contradicts_the_tier() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.async_client("org"), scope="org")
    tools = await listed(toolkit)
    assert len(tools) == len(toolkit.get_tools())
    assert [p for t in tools for p in contradictions(t)] == []
    by_name: dict[str, Any] = {t.name: t for t in tools}
    for lc in toolkit.get_tools():
        served = by_name[lc.name]
        assert served.meta["fly-tools/risk"] == lc.metadata["risk"]  # type: ignore[index]
        assert served.annotations.idempotent_hint is lc.metadata["idempotentHint"]  # type: ignore[index]


async def test_open_world_only_where_the_guest_writes_the_output() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.async_client("org"), scope="org")
    open_world = {
        t.name for t in await listed(toolkit) if t.annotations and t.annotations.open_world_hint
    }
    # Every tool whose answer carries text others wrote (its record's untrusted fields).
    assert open_world == {
        t.name for t in toolkit.get_tools() if toolkit.catalogue[t.name].untrusted
    }
    assert {"fly_exec_machine", "fly_list_machine_events", "fly_get_machine"} <= open_world


async def test_the_list_says_which_tools_ask_for_approval() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.async_client("deploy", "web"), scope="deploy", app="web")
    asking = {t.name for t in await listed(toolkit) if (t.meta or {})["fly-tools/needs-approval"]}
    assert asking == {t.name for t in toolkit.get_tools() if toolkit.gated(t.name)}
    assert "fly_delete_volume" in asking
    assert "fly_list_machines" not in asking
