"""Every Python snippet in README.md runs as written; every `fly-tools` command in it works."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from fly_tools import AgentPolicy, cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
LANGUAGES = {"python", "bash", "toml", "json"}


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCKS.findall(README) if lang == language]


def commands() -> list[str]:
    """The `fly-tools ...` lines of the README's shell blocks, comments dropped."""
    lines = (line.split("  #")[0].strip() for body in blocks("bash") for line in body.splitlines())
    return [line for line in lines if line.startswith("fly-tools ")]


@pytest.fixture(autouse=True)
def offline_world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A scratch directory (snippets write audit.jsonl) and a made-up token for "Going live"."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLY_API_TOKEN", "fm2_readme-example-token")
    for name in ("FLY_ACCESS_TOKEN", "FLY_API_HOSTNAME", "FLY_FLAPS_BASE_URL", "FLY_TOOLS_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_every_code_block_is_checked() -> None:
    languages = {lang for lang, _ in BLOCKS.findall(README)}
    assert languages <= LANGUAGES, f"no test runs {languages - LANGUAGES} blocks"
    assert len(blocks("python")) >= 6
    assert len(commands()) >= 8


@pytest.mark.parametrize("number", range(len(blocks("python"))))
def test_python_snippet_runs(number: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = blocks("python")[number]
    exec(compile(code, f"README.md python block {number + 1}", "exec"), {"__name__": "__main__"})  # noqa: S102
    assert capsys.readouterr().out.strip(), "every snippet shows something"


def test_the_policy_file_is_valid() -> None:
    (policy,) = blocks("toml")
    loaded = AgentPolicy.from_dict(tomllib.loads(policy))
    assert loaded.agent_id == "ops-bot"


def test_mcp_host_configuration_launches_real_commands() -> None:
    """Each server in the README's MCP host JSON names `fly-tools mcp` with valid options."""
    from fly_tools.mcp.cli import build_parser

    (text,) = blocks("json")
    servers = json.loads(text)["mcpServers"]
    assert servers
    for server in servers.values():
        assert Path(server["command"]).name == "fly-tools"  # as `fly-tools mcp config` prints it
        assert server["args"][0] == "mcp"
        build_parser().parse_args(server["args"][1:])
        assert all(isinstance(v, str) for v in server.get("env", {}).values())


def test_commands_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    """Offline commands run for real, in README order; the rest must at least parse."""
    parser = cli.build_parser()
    ran = 0
    for line in commands():
        argv = shlex.split(line)[1:]
        if "--live" in argv or argv[0] == "fake-server":
            parser.parse_args(argv)  # needs Fly or blocks until Ctrl-C: check the arguments
            continue
        status = cli.main(argv)
        captured = capsys.readouterr()
        assert status in (0, 1), f"{line}: {captured.err}"
        assert captured.out or captured.err, line
        ran += 1
    assert ran >= 5
