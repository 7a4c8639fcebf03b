"""``fly-tools mcp`` options, and LangChain's MCP adapter loading the server with its tiers."""

from __future__ import annotations

import sys
import warnings

import pytest
from langchain_core.tools import StructuredTool

from fly_tools.mcp import cli
from fly_tools.risk import RiskTier
from fly_tools.testing import FakeFly
from fly_tools.toolkit import FlyToolkit


def test_without_scope_the_offline_server_is_readonly() -> None:
    toolkit = cli.build_toolkit(cli.build_parser().parse_args(["--app", "web"]))
    assert toolkit.scope == "readonly"
    assert {t.metadata["risk"] for t in toolkit.get_tools()} == {"read"}  # type: ignore[index]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--scope", "deploy", "--app", "Not An App"], "not a Fly app name"),
        (["--scope", "deploy", "--live"], "--live needs a Fly API token"),
        (["--scope", "deploy", "--policy", "/nonexistent.toml"], "no such policy file"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert says in err
    assert err.count("\n") == 1


def test_the_mcp_token_may_not_be_the_fly_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", "fo1_same-secret-for-both-0123456789")
    monkeypatch.setenv("FLY_TOOLS_MCP_TOKEN", "fo1_same-secret-for-both-0123456789")
    assert cli.main(["--scope", "deploy", "--app", "web", "--http", "--port", "1"]) == 2
    captured = capsys.readouterr()
    assert "must not be the Fly API token" in captured.err
    assert "fo1_same-secret" not in captured.out + captured.err


def test_offline_toolkit_is_the_demo_world_with_the_options() -> None:
    options = cli.build_parser().parse_args(
        ["--scope", "deploy", "--app", "web", "--max-risk", "write"]
    )
    toolkit = cli.build_toolkit(options)
    assert toolkit.scope == "deploy"
    assert toolkit.app == "web"
    assert max(RiskTier.parse(t.metadata["risk"]) for t in toolkit.get_tools()) is RiskTier.WRITE  # type: ignore[index]
    assert cli.describe(toolkit, options).endswith("on the fake Fly API (demo world, offline)")


@pytest.mark.slow
async def test_langchain_mcp_adapter_loads_the_tools_with_their_tiers() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastmcp.client.transports import StdioTransport
        from langchain.mcp import MCPAdapter

    transport = StdioTransport(
        sys.executable,
        ["-m", "fly_tools.mcp", "--scope", "deploy", "--app", "web"],
        env={"PATH": ""},
    )
    tools = await MCPAdapter(transport).list_tools()
    fake = FakeFly.demo()
    expected = FlyToolkit(client=fake.async_client("deploy", "web"), scope="deploy", app="web")
    tiers = {t.name: RiskTier.parse(t.metadata["risk"]) for t in expected.get_tools()}  # type: ignore[index]
    assert [t.name for t in tools] == list(tiers)
    for tool in tools:
        mcp = tool.metadata["mcp"]["tool"]  # type: ignore[index]
        tier = tiers[tool.name]
        assert RiskTier.parse(mcp["_meta"]["fly-tools/risk"]) is tier
        assert mcp["annotations"]["read_only_hint"] is (tier is RiskTier.READ)
        assert mcp["annotations"]["destructive_hint"] is (tier >= RiskTier.DISRUPTIVE)
    listed = next(t for t in tools if t.name == "fly_list_machines")
    assert isinstance(listed, StructuredTool)
    assert listed.coroutine is not None
    _content, artifact = await listed.coroutine()
    assert artifact["structured_content"]["result"][0]["id"]
