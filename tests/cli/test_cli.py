"""The fly-tools command line: tools, call, audit, fake-server; exit codes and one-line errors."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fly_tools import FlyClient, cli, read_jsonl
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "ops-bot-policy.toml"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeFly:
    """The fake that `fly-tools call` talks to, kept so tests can look at it afterwards."""
    world = FakeFly.demo()
    monkeypatch.setattr(cli, "_fake_client", lambda scope, app: world.client(scope, app))
    return world


@pytest.fixture(autouse=True)
def no_fly_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_HOSTNAME", "FLY_FLAPS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ---------------------------------------------------------------- tools


@pytest.mark.parametrize(
    ("argv", "count"),
    [
        ([], 31),
        (["--scope", "deploy", "--app", "web"], 29),
        (["--scope", "readonly"], 12),
        (["--scope", "machine-exec"], 1),
        (["--scope", "deploy", "--app", "web", "--policy", str(POLICY)], 14),
    ],
)
def test_tools_lists_the_toolkit(
    capsys: pytest.CaptureFixture[str], argv: list[str], count: int
) -> None:
    status, out, _ = run(capsys, "tools", *argv)
    assert status == 0
    header, _, *rows = out.strip().splitlines()
    assert header.startswith(f"{count} tools for a")
    assert len(rows) == count + 1  # column titles, then one row per tool
    assert rows[0].split() == ["tool", "tier", "group", "scopes"]


def test_tools_with_a_bad_app_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "tools", "--app", "Not An App")
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert "is not a Fly app name" in err


# ---------------------------------------------------------------- call


def test_call_prints_the_content_and_exits_0(
    fake: FakeFly, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "call", "fly_list_machines", "--scope", "deploy", "--app", "web")
    assert (status, err) == (0, "")
    assert out.startswith("3 machines.")
    assert [r.path for r in fake.requests] == ["/v1/apps/web/machines"]


def test_a_failed_call_exits_1_with_the_advice(
    fake: FakeFly, capsys: pytest.CaptureFixture[str]
) -> None:
    args = json.dumps({"app_name": "web", "machine_id": "3d8d9015b23480"})
    status, out, err = run(capsys, "call", "fly_get_machine", "--args", args)
    assert (status, out) == (1, "")
    assert "404" in err
    assert "Check the app name" in err


def test_a_gated_call_without_a_terminal_is_rejected(
    fake: FakeFly, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    args = json.dumps({"volume_id": VOL_DATA_OLD})
    status, out, err = run(
        capsys, "call", "fly_delete_volume", "--app", "web", "--args", args, "--audit", str(audit)
    )
    assert (status, out) == (1, "")
    assert "pass --yes to approve" in err
    assert not [r for r in fake.requests if r.method == "DELETE"]
    (record,) = read_jsonl(audit)
    assert (record.decision, record.decided_by, record.outcome) == (
        "rejected",
        "fly-tools",
        "not_executed",
    )


@pytest.mark.parametrize(("flag", "status", "deleted"), [("--yes", 0, True), ("--no", 1, False)])
def test_yes_and_no_decide_gated_calls(
    fake: FakeFly, capsys: pytest.CaptureFixture[str], flag: str, status: int, deleted: bool
) -> None:
    args = json.dumps({"volume_id": VOL_DATA_OLD})
    result, _, _ = run(capsys, "call", "fly_delete_volume", "--app", "web", "--args", args, flag)
    assert result == status
    assert any(r.method == "DELETE" for r in fake.requests) is deleted


def test_a_tool_outside_the_scope_is_refused_and_audited(
    fake: FakeFly, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    status, out, err = run(
        capsys, "call", "fly_list_apps", "--scope", "deploy", "--audit", str(audit)
    )
    assert (status, out) == (1, "")
    assert err.strip() == (
        "fly-tools: refused: fly_list_apps is not available to a deploy-scoped token "
        "(it needs: org, readonly); nothing was sent"
    )
    assert fake.requests == []
    (record,) = read_jsonl(audit)
    assert (record.decision, record.outcome) == ("refused", "not_executed")


def test_the_policy_applies_to_call(
    fake: FakeFly, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    args = json.dumps({"volume_id": VOL_DATA})
    status, _, err = run(
        capsys, "call", "fly_delete_volume", "--app", "web", "--args", args, "--yes",
        "--policy", str(POLICY), "--audit", str(audit),
    )  # fmt: skip
    assert status == 1
    assert "grants only read access to the volumes group" in err
    assert read_jsonl(audit)[0].agent_id == "ops-bot"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["call", "fly_lst_apps"], "unknown tool 'fly_lst_apps'; did you mean fly_list_apps?"),
        (["call", "fly_list_apps", "--args", "{oops"], "--args is not valid JSON"),
        (["call", "fly_list_apps", "--args", "[1]"], "--args must be a JSON object"),
        (["call", "fly_list_apps", "--policy", "missing.toml"], "no such policy file"),
        (["call", "fly_list_apps", "--live"], "FLY_API_TOKEN"),
        (["audit", "missing.jsonl"], "no such audit file"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    fake: FakeFly, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("fly-tools: ")
    assert message in err


def test_argument_mistakes_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["call", "fly_list_apps", "--yes", "--no"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_live_never_prints_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "fm2_live-token-that-must-not-show"
    monkeypatch.setenv("FLY_API_TOKEN", token)
    monkeypatch.setenv("FLY_API_HOSTNAME", "ftp://api.example")
    status, out, err = run(capsys, "call", "fly_list_apps", "--live")
    assert status == 2
    assert "base URL" in err
    assert token not in out + err


def test_progress_is_shown_while_a_call_runs() -> None:
    shown = threading.Event()

    class Terminal(io.StringIO):
        def write(self, text: str) -> int:
            written = super().write(text)
            if "waiting" in text:
                shown.set()
            return written

    out = Terminal()
    with cli.progress("waiting for machine x to reach started", out, every=0.01):
        assert shown.wait(timeout=10)
    assert "... waiting for machine x to reach started (" in out.getvalue()


# ---------------------------------------------------------------- audit


def test_audit_prints_the_trail_filtered(
    fake: FakeFly, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    audit = str(tmp_path / "audit.jsonl")
    run(capsys, "call", "fly_list_machines", "--app", "web", "--audit", audit)
    stop = json.dumps({"machine_id": WEB_1})
    run(
        capsys,
        "call",
        "fly_stop_machine",
        "--app",
        "web",
        "--args",
        stop,
        "--audit",
        audit,
        "--agent",
        "night-shift",
    )
    delete = json.dumps({"volume_id": VOL_DATA_OLD})
    run(
        capsys,
        "call",
        "fly_delete_volume",
        "--app",
        "web",
        "--args",
        delete,
        "--no",
        "--audit",
        audit,
    )

    status, out, _ = run(capsys, "audit", audit)
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("1. ")
    assert "fly-tools listed the machines in app web" in lines[0]
    assert f"night-shift stopped machine {WEB_1} in app web" in lines[1]
    assert "was rejected by --no" in lines[2]

    _, out, _ = run(capsys, "audit", audit, "--agent", "night-shift")
    assert len(out.strip().splitlines()) == 1
    _, out, _ = run(capsys, "audit", audit, "--decision", "rejected")
    assert "delete volume" in out
    assert len(out.strip().splitlines()) == 1
    _, out, _ = run(capsys, "audit", audit, "--agent", "nobody")
    assert out.strip() == "No audit records match."


def test_audit_of_a_corrupt_file_names_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    audit.write_text('{"not": "a record"}\n')
    status, _, err = run(capsys, "audit", str(audit))
    assert status == 2
    assert f"{audit}:1: not an audit record" in err


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
