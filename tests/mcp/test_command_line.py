"""``fly-tools mcp``: the toolkit's flags as ``tools``/``call`` take them, its help, ``mcp config``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from fly_tools.cli import main as fly_tools_main
from fly_tools.cli.parser import build_parser as fly_tools_parser
from fly_tools.mcp import build_server, cli, config
from fly_tools.risk import RiskTier
from tests.mcp.conftest import approve

ROOT = Path(__file__).resolve().parents[2]
NOT_TOOLKIT = {"--args", "--yes", "--no", "--json", "--limiter", "-h", "--help"}
"""Options of ``call`` about one call or its printing, not about the toolkit served."""


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def subcommand(name: str) -> argparse.ArgumentParser:
    commands = next(
        a for a in fly_tools_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    found: argparse.ArgumentParser = commands.choices[name]
    return found


@pytest.mark.parametrize("command", ["tools", "call"])
def test_every_toolkit_flag_of_tools_and_call_is_on_mcp(command: str) -> None:
    wanted = option_strings(subcommand(command)) - NOT_TOOLKIT - {"--store", "--audit"}
    assert wanted - option_strings(cli.build_parser()) == set()
    assert {"--groups", "--include", "--exclude", "--confirm-at", "--max-risk"} <= wanted


def served_names(argv: list[str], *, forms: bool = True) -> tuple[Any, set[str]]:
    toolkit = cli.build_toolkit(cli.build_parser().parse_args(argv))
    return toolkit, {t.name for t in toolkit.get_tools()}


async def test_the_flags_shape_what_is_served() -> None:
    argv = ["--scope", "deploy", "--app", "web", "--exclude", "fly_exec_machine"]
    toolkit, names = served_names([*argv, "--confirm-at", "disruptive", "--agent-id", "ops"])
    assert "fly_exec_machine" not in names
    assert toolkit.gated("fly_stop_machine")
    assert toolkit.agent_id == "ops"
    async with Client(build_server(toolkit), elicitation_callback=approve()) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == names
    assert listed["fly_stop_machine"].meta["fly-tools/needs-approval"] is True  # type: ignore[index]
    _, only = served_names(["--scope", "org", "--include", "fly_list_apps,fly_get_app"])
    assert only == {"fly_list_apps", "fly_get_app"}
    _, certificates = served_names(["--scope", "org", "--groups", "certificates"])
    assert certificates
    assert all("certificate" in name for name in certificates)
    toolkit, _ = served_names(["--scope", "deploy", "--max-risk", "read"])
    assert {RiskTier.parse(t.metadata["risk"]) for t in toolkit.get_tools()} == {RiskTier.READ}
    assert toolkit.agent_id == cli.AGENT_ID


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--groups", "nosuch"], "--groups: unknown name 'nosuch'"),
        (["--include", "fly_list_machine"], "did you mean fly_list_machines?"),
        (["--scope", "readonly", "--include", "fly_delete_app"], "leave no tools"),
        (["--confirm-timeout", "0"], "--confirm-timeout"),
    ],
)
def test_bad_toolkit_flags_exit_2_in_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert says in err
    assert err.count("\n") == 1


def test_help_marks_no_option_required_and_says_who_sees_gated_tools(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        fly_tools_main(["mcp", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "required" not in text
    assert "Without --scope" in text
    for flag in ("--groups", "--include", "--exclude", "--confirm-at", "--allow-host"):
        assert flag in text
    assert "listed only to clients that declared form elicitation" in text
    assert "fly-tools mcp config" in text


@pytest.mark.parametrize("host", config.HOSTS)
def test_config_blocks_name_an_absolute_command_and_a_token_placeholder(
    host: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", "fo1_real-token-must-not-be-printed")
    assert cli.main(["config", "--host", host, "--scope", "deploy", "--app", "web", "--live"]) == 0
    captured = capsys.readouterr()
    assert "fo1_real-token" not in captured.out + captured.err
    printed = json.loads(captured.out)
    servers = printed.get("mcpServers") or printed.get("servers") or {"fly-tools": printed}
    entry = servers["fly-tools"]
    assert Path(entry["command"]).is_absolute()
    assert Path(entry["command"]).exists()
    assert entry["args"][-5:] == ["--scope", "deploy", "--app", "web", "--live"]
    assert set(entry["env"]) == {"FLY_API_TOKEN"}
    if host == "vscode":
        assert entry["env"]["FLY_API_TOKEN"] == "${input:fly-api-token}"
        assert printed["inputs"][0]["password"] is True


def test_config_refuses_options_the_server_would_refuse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["config", "--scope", "everything"])
    assert exited.value.code == 2
    assert cli.main(["config", "--http"]) == 2
    assert "URL and token" in capsys.readouterr().err


@pytest.mark.slow
async def test_the_printed_block_starts_the_server() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    printed = subprocess.run(
        [sys.executable, "-m", "fly_tools.cli", "mcp", "config", "--host", "claude"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    entry = json.loads(printed.stdout)["mcpServers"]["fly-tools"]
    assert "env" not in entry  # offline: no token needed
    # A desktop host's PATH has no fly-tools on it: the absolute path must do.
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env={"PATH": "", "PYTHONPATH": str(ROOT)}
    )
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
    assert tools
    assert {t.annotations.read_only_hint for t in tools if t.annotations} == {True}  # readonly


@pytest.mark.slow
async def test_python_m_fly_tools_mcp_defaults_the_scope_as_fly_tools_mcp_does() -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "fly_tools.mcp", "--app", "web"],
        env={"PATH": "", "PYTHONPATH": str(ROOT)},
    )
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        machines = await client.call_tool("fly_list_machines", {})
    assert not machines.is_error
    assert {t.meta["fly-tools/risk"] for t in tools} == {"read"}  # type: ignore[index]
