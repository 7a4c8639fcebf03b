"""The command line as a whole: help, version, lazy start, and the commands it hands on."""

from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, get_args

import pytest

from fly_tools import FlyClient, __version__, cli
from fly_tools.cli import options, parser
from fly_tools.guards import Verdict
from fly_tools.testing import FakeFly
from tests.cli.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
STUB_ROOT = """
import sys, types
# fly_tools' own __init__ stands aside: only what the command line itself imports is seen.
package = types.ModuleType("fly_tools")
package.__path__ = [{path!r}]
package.__version__ = "0.0.0-test"
sys.modules["fly_tools"] = package
before = set(sys.modules)
import fly_tools.cli
try:
    fly_tools.cli.main({argv!r})
except SystemExit:
    pass
print("IMPORTED", sorted(set(sys.modules) - before))
"""


def test_bare_command_prints_help_and_exits_0(run: Run) -> None:
    status, out, err = run()
    assert (status, err) == (0, "")
    assert out.startswith("usage: fly-tools")
    for command in ("tools", "call", "audit", "demo", "fake-server", "mcp"):
        assert f"    {command}" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"fly-tools {__version__}\n"


def test_call_help_says_where_the_call_goes_and_names_both_token_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["call", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Without --live the call goes to a fresh copy of the fake Fly API's demo world" in text
    assert "FLY_API_TOKEN or FLY_ACCESS_TOKEN" in text
    assert "with --live the scope is read from the token; without --live it is readonly" in text
    for flag in (
        "--groups",
        "--max-risk",
        "--include",
        "--exclude",
        "--confirm-at",
        "--confirm-timeout",
        "--exec-commands",
        "--agent-id",
        "--limiter",
        "--json",
    ):
        assert flag in text


def test_the_parsers_decisions_are_the_audit_verdicts() -> None:
    assert get_args(Verdict) == parser.DECISIONS


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["call", "--help"], []])
def test_help_and_version_import_nothing_heavy(argv: list[str]) -> None:
    code = STUB_ROOT.format(path=str(ROOT / "fly_tools"), argv=argv)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    imported = json.loads(result.stdout.rsplit("IMPORTED ", 1)[1].replace("'", '"'))
    ours = {name for name in imported if name.startswith("fly_tools")}
    assert ours == {
        "fly_tools.cli",
        "fly_tools.cli.parser",
        "fly_tools.cli.usage",
        "fly_tools.risk",
    }
    heavy = {"langchain_core", "pydantic", "httpx", "langgraph", "langchain"}
    assert not heavy & {name.split(".")[0] for name in imported}


def test_the_module_runs_as_a_program() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fly_tools.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, f"fly-tools {__version__}\n")


# ---------------------------------------------------------------- mcp


@pytest.fixture
def mcp_cli(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """A stand-in for ``fly_tools.mcp.cli`` that records the arguments it is given."""
    calls: list[list[str]] = []
    module = types.ModuleType("fly_tools.mcp.cli")

    def main(argv: list[str]) -> int:
        calls.append(list(argv))
        return 0

    module.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fly_tools.mcp.cli", module)
    return calls


def test_mcp_hands_every_argument_on(run: Run, mcp_cli: list[list[str]]) -> None:
    argv = ["--scope", "deploy", "--app", "web", "--http", "--port", "0", "--max-risk", "write"]
    assert run("mcp", *argv)[0] == 0
    assert run("mcp", "--help")[0] == 0
    assert mcp_cli == [argv, ["--help"]]


def test_mcp_without_scope_gets_readonly_or_the_tokens_scope(
    run: Run, mcp_cli: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    run("mcp", "--app", "web")
    fake = FakeFly.demo()
    monkeypatch.setattr(options, "live_client", lambda **extra: fake.client(scope="deploy"))
    run("mcp", "--live")
    run("mcp", "--live", "--scope=readonly")
    assert mcp_cli == [
        ["--scope", "readonly", "--app", "web"],
        ["--scope", "deploy", "--live"],
        ["--live", "--scope=readonly"],
    ]
    assert [r.path for r in fake.requests] == ["/v1/tokens/current", "/v1/tokens/authorize"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("mcp", "`fly-tools mcp` needs the MCP SDK (mcp is missing): pip install 'fly-tools[mcp]'"),
        ("fly_tools.mcp.cli", "this installation of fly-tools has no MCP server"),
    ],
)
def test_mcp_without_its_module_is_a_clear_error(
    run: Run, monkeypatch: pytest.MonkeyPatch, missing: str, message: str
) -> None:
    real = importlib.import_module

    def import_module(name: str) -> Any:
        if name == "fly_tools.mcp.cli":
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        return real(name)

    monkeypatch.setattr(importlib, "import_module", import_module)
    status, out, err = run("mcp", "--scope", "org")
    assert (status, out) == (2, "")
    assert err == f"fly-tools: {message}\n"


# ---------------------------------------------------------------- fake-server


@pytest.mark.enable_socket
@pytest.mark.loopback
def test_fake_server_serves_the_demo_world_until_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fly_tools.cli", "fake-server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "Ctrl-C" in line:
                break
        base_url = next(line.split("=", 1)[1] for line in lines if "FLY_API_HOSTNAME=" in line)
        assert base_url.startswith("http://127.0.0.1:")
        tokens = dict(line.split() for line in lines if line.startswith("  ") and " fm2_" in line)
        assert set(tokens) == {"org", "deploy", "readonly", "machine-exec"}

        with FlyClient(tokens["readonly"], base_url=base_url, rate_limit=False) as client:
            apps = client.call("fly_list_apps", {"org_slug": "acme"})
        assert sorted(app["name"] for app in apps["apps"]) == ["web", "worker"]
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=30)
    assert status == 0


def test_fake_server_options_are_the_fakes_own(monkeypatch: pytest.MonkeyPatch, run: Run) -> None:
    import fly_tools.testing.command as command

    seen: list[tuple[list[str], str]] = []

    def serve_main(argv: list[str], prog: str) -> int:
        seen.append((argv, prog))
        return 0

    monkeypatch.setattr(command, "serve_main", serve_main)
    assert run("fake-server", "--port", "0", "--time-scale", "10", "--empty")[0] == 0
    assert seen == [(["--port", "0", "--time-scale", "10", "--empty"], "fly-tools fake-server")]
