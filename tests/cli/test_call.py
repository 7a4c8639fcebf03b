"""`fly-tools call`: one call through the toolkit; arguments, approval, errors for people, JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from fly_tools import ConsoleApproval, read_jsonl
from fly_tools.cli import call as call_command
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1
from tests.cli.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "ops-bot-policy.toml"
DELETE_OLD = json.dumps({"volume_id": VOL_DATA_OLD})


def changes(fake: FakeFly) -> list[str]:
    """Requests that could change something (asking Fly about the token changes nothing)."""
    return [
        f"{r.method} {r.path}"
        for r in fake.requests
        if r.method != "GET" and not r.path.startswith("/v1/tokens/")
    ]


def deletes(fake: FakeFly) -> list[str]:
    return [r.path for r in fake.requests if r.method == "DELETE"]


def test_call_prints_the_content_and_exits_0(run: Run, fake: FakeFly) -> None:
    status, out, err = run("call", "fly_list_machines", "--scope", "deploy", "--app", "web")
    assert (status, err) == (0, "")
    assert out.startswith("3 machines.")
    assert [r.path for r in fake.requests] == ["/v1/apps/web/machines"]


def test_a_tool_of_an_opt_in_group_can_be_called_by_name(run: Run, fake: FakeFly) -> None:
    status, out, err = run("call", "fly_list_regions", "--scope", "org")
    assert (status, err) == (0, "")
    assert "region" in out.lower()
    assert [r.path for r in fake.requests] == ["/v1/platform/regions"]
    status, _, err = run("call", "fly_list_regions", "--scope", "org", "--groups", "machines")
    assert status == 1
    assert "fly_list_regions is in group platform, which --groups leaves out" in err
    status, _, err = run(
        "call",
        "fly_list_regions",
        "--scope",
        "org",
        "--max-risk",
        "read",
        "--exclude",
        "fly_list_regions",
    )
    assert status == 1
    assert "fly_list_regions is left out by --exclude" in err
    assert [r.path for r in fake.requests] == ["/v1/platform/regions"]  # only the first call


def test_without_scope_the_fake_is_called_readonly(run: Run, fake: FakeFly) -> None:
    status, _out, _ = run("call", "fly_list_machines", "--app", "web")
    assert status == 0
    assert fake.clients_made[-1]["scope"] == "readonly"  # type: ignore[attr-defined]
    assert [r.path for r in fake.requests] == ["/v1/apps/web/machines"]
    status, _, err = run("call", "fly_delete_volume", "--app", "web", "--args", DELETE_OLD, "--yes")
    assert status == 1
    assert "not available to a readonly-scoped token" in err
    assert "without --live the scope is readonly unless --scope names another" in err
    assert deletes(fake) == []


def test_a_failed_call_exits_1_with_the_advice(run: Run, fake: FakeFly) -> None:
    args = json.dumps({"app_name": "web", "machine_id": "3d8d9015b23480"})
    status, out, err = run("call", "fly_get_machine", "--args", args)
    assert (status, out) == (1, "")
    assert "404" in err
    assert "Check the app name" in err
    assert [r.status for r in fake.requests] == [404]


def test_invalid_arguments_are_explained_in_flag_terms(
    run: Run, fake: FakeFly, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    status, out, err = run(
        "call", "fly_get_machine", "--args", '{"machine_id": "x"}', "--audit", str(audit)
    )
    assert (status, out) == (2, "")  # a usage error, like --args that are not JSON
    assert err.count("\n") == 1
    assert err.startswith("fly-tools: --args for fly_get_machine are invalid: app_name is required")
    assert "bind the app with --app" in err
    assert "give a value" not in err
    assert "call the tool again" not in err
    assert fake.requests == []
    (record,) = read_jsonl(audit)
    assert (record.decision, record.outcome) == ("refused", "not_executed")


def test_a_gated_call_without_a_terminal_is_rejected(
    run: Run, fake: FakeFly, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    status, out, err = run(
        "call",
        "fly_delete_volume",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        DELETE_OLD,
        "--audit",
        str(audit),
    )
    assert (status, out) == (1, "")
    assert "pass --yes to approve" in err
    assert f"fly_delete_volume on volume {VOL_DATA_OLD} in app web was not sent" in err
    assert "Do not retry" not in err
    assert deletes(fake) == []
    assert changes(fake) == []  # at most reads: the token's reach, the volume to describe
    record = read_jsonl(audit)[-1]
    assert (record.tool, record.decision, record.decided_by, record.outcome) == (
        "fly_delete_volume",
        "rejected",
        "fly-tools",
        "not_executed",
    )


@pytest.mark.parametrize(("flag", "status", "deleted"), [("--yes", 0, True), ("--no", 1, False)])
def test_yes_and_no_decide_gated_calls(
    run: Run, fake: FakeFly, flag: str, status: int, deleted: bool
) -> None:
    result, _, _ = run(
        "call", "fly_delete_volume", "--scope", "deploy", "--app", "web", "--args", DELETE_OLD, flag
    )
    assert result == status
    assert bool(deletes(fake)) is deleted


def test_at_a_terminal_call_asks_with_the_shared_prompt(
    run: Run, fake: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["y", VOL_DATA_OLD])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr(
        call_command,
        "ConsoleApproval",
        lambda output: ConsoleApproval(input=lambda prompt: next(answers), output=output),
    )
    status, out, err = run(
        "call", "fly_delete_volume", "--scope", "deploy", "--app", "web", "--args", DELETE_OLD
    )
    assert status == 0
    assert out.startswith("Deleted volume")
    assert f"Approve fly_delete_volume on volume {VOL_DATA_OLD} in app web?" in err
    assert f"Type {VOL_DATA_OLD} or data_old to confirm" in err
    assert deletes(fake) == [f"/v1/apps/web/volumes/{VOL_DATA_OLD}"]


def test_ctrl_c_at_the_prompt_rejects(
    run: Run, fake: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ctrl_c(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr(
        call_command, "ConsoleApproval", lambda output: ConsoleApproval(input=ctrl_c, output=output)
    )
    status, _, err = run(
        "call", "fly_delete_volume", "--scope", "deploy", "--app", "web", "--args", DELETE_OLD
    )
    assert status == 1
    assert "interrupted at the prompt (Ctrl-C)" in err
    assert deletes(fake) == []


def test_the_ticker_is_silent_while_the_prompt_waits(request: pytest.FixtureRequest) -> None:
    from tests.guards.conftest import make_request

    ticks = io.StringIO()
    seen_while_waiting: list[str] = []

    def slow_person(prompt: str) -> str:
        before = ticks.getvalue()
        import time

        time.sleep(0.3)
        seen_while_waiting.append(ticks.getvalue()[len(before) :])
        return "n"

    with call_command.progress("fly_delete_volume is still running", ticks, every=0.01):
        ConsoleApproval(input=slow_person, output=io.StringIO())(make_request("fly_stop_machine"))
        import time

        time.sleep(0.1)
    assert seen_while_waiting == [""]
    assert "fly_delete_volume is still running (" in ticks.getvalue()  # it ticked around it


def test_a_tool_outside_the_scope_is_refused_and_audited(
    run: Run, fake: FakeFly, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    status, out, err = run("call", "fly_list_apps", "--scope", "deploy", "--audit", str(audit))
    assert (status, out) == (1, "")
    assert err.strip() == (
        "fly-tools: refused: fly_list_apps is not available to a deploy-scoped token "
        "(it needs: org, readonly); nothing was sent"
    )
    assert fake.requests == []
    (record,) = read_jsonl(audit)
    assert (record.decision, record.outcome) == ("refused", "not_executed")


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["--max-risk", "write"], "fly_delete_volume is destructive, above --max-risk write"),
        (
            ["--groups", "machines"],
            "fly_delete_volume is in group volumes, which --groups leaves out",
        ),
        (["--exclude", "fly_delete_volume"], "fly_delete_volume is left out by --exclude"),
        (["--include", "fly_list_volumes"], "fly_delete_volume is not in --include"),
    ],
)
def test_a_tool_the_filters_leave_out_names_the_flag(
    run: Run, fake: FakeFly, flags: list[str], reason: str
) -> None:
    status, _, err = run(
        "call",
        "fly_delete_volume",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        DELETE_OLD,
        "--yes",
        *flags,
    )
    assert status == 1
    assert f"refused: {reason}; nothing was sent" in err
    assert fake.requests == []


def test_confirm_at_exec_commands_and_agent_id_reach_the_toolkit(
    run: Run, fake: FakeFly, tmp_path: Path
) -> None:
    audit = str(tmp_path / "audit.jsonl")
    stop = json.dumps({"machine_id": WEB_1})
    status, _, err = run(
        "call",
        "fly_stop_machine",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        stop,
        "--confirm-at",
        "disruptive",
        "--audit",
        audit,
        "--agent-id",
        "night-shift",
    )
    assert status == 1
    assert "no terminal to ask" in err
    exec_rm = json.dumps({"machine_id": WEB_1, "command": ["rm", "-rf", "/data"]})
    status, _, err = run(
        "call",
        "fly_exec_machine",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        exec_rm,
        "--exec-commands",
        "ls,cat",
        "--yes",
        "--audit",
        audit,
        "--agent",
        "night-shift",
    )
    assert status == 1
    assert "rm" in err
    # Neither the stop nor the exec was sent; reads to describe the stop may have been.
    assert changes(fake) == []
    records = [r for r in read_jsonl(audit) if r.tool != "fly_get_machine"]
    assert [(r.tool, r.agent_id, r.outcome) for r in records] == [
        ("fly_stop_machine", "night-shift", "not_executed"),
        ("fly_exec_machine", "night-shift", "not_executed"),
    ]


def test_the_policy_applies_to_call(run: Run, fake: FakeFly, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    args = json.dumps({"volume_id": VOL_DATA})
    status, _, err = run(
        "call",
        "fly_delete_volume",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        args,
        "--yes",
        "--policy",
        str(POLICY),
        "--audit",
        str(audit),
    )
    assert status == 1
    assert "grants only read access to the volumes group" in err
    assert read_jsonl(audit)[0].agent_id == "ops-bot"
    assert fake.requests == []


# ---------------------------------------------------------------- --args


def test_args_from_a_file_and_from_stdin(
    run: Run, fake: FakeFly, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"app_name": "web", "machine_id": WEB_1}), encoding="utf-8")
    status, _, _ = run("call", "fly_get_machine", "--args", f"@{path}")
    assert status == 0
    for spelling in ("-", "@-"):
        monkeypatch.setattr("sys.stdin", io.StringIO('{"app_name": "worker"}'))
        status, _out, _ = run("call", "fly_list_machines", "--args", spelling)
        assert status == 0
    assert [r.path for r in fake.requests] == [
        f"/v1/apps/web/machines/{WEB_1}",
        "/v1/apps/worker/machines",
        "/v1/apps/worker/machines",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["call", "fly_lst_apps"], "unknown tool 'fly_lst_apps'; did you mean fly_list_apps?"),
        (["call", "fly_list_apps", "--args", "{oops"], "--args is not valid JSON"),
        (["call", "fly_list_apps", "--args", "[1]"], "--args must be a JSON object"),
        (["call", "fly_list_apps", "--args", "@missing.json"], "no such --args file: missing.json"),
        (["call", "fly_list_apps", "--policy", "missing.toml"], "no such policy file"),
        (["call", "fly_list_apps", "--live"], "FLY_API_TOKEN (or FLY_ACCESS_TOKEN)"),
        (["audit", "missing.jsonl"], "no such audit file"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    run: Run, fake: FakeFly, argv: list[str], message: str
) -> None:
    status, out, err = run(*argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("fly-tools: ")
    assert message in err
    assert fake.requests == []


def test_a_bad_args_file_names_the_file(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "args.json"
    path.write_text('{"app_name": \n oops}', encoding="utf-8")
    status, _, err = run("call", "fly_list_machines", "--args", f"@{path}")
    assert status == 2
    assert f"--args file {path} is not valid JSON" in err
    assert "line 2" in err


def test_argument_mistakes_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from fly_tools import cli

    with pytest.raises(SystemExit) as caught:
        cli.main(["call", "fly_list_apps", "--yes", "--no"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# ---------------------------------------------------------------- --json


def test_json_success_is_one_document_with_result_and_record(run: Run, fake: FakeFly) -> None:
    status, out, err = run("call", "fly_list_machines", "--app", "web", "--json")
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert (document["tool"], document["ok"], document["error"]) == (
        "fly_list_machines",
        True,
        None,
    )
    assert [m["id"] for m in document["result"]] == [
        m["id"] for m in fake.client().call("fly_list_machines", {"app_name": "web"})
    ]
    assert document["text"].startswith("3 machines.")
    assert (document["record"]["decision"], document["record"]["outcome"]) == ("allowed", "ok")


def test_json_failure_still_prints_the_document_and_the_error_on_stderr(
    run: Run, fake: FakeFly
) -> None:
    status, out, err = run(
        "call",
        "fly_delete_volume",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        DELETE_OLD,
        "--no",
        "--json",
    )
    assert status == 1
    document = json.loads(out)
    assert document["ok"] is False
    assert document["record"]["decision"] == "rejected"
    assert err.startswith("fly-tools: ")
    assert err.count("\n") == 1
    assert document["error"] in err
    assert deletes(fake) == []
    status, out, err = run("call", "fly_list_apps", "--scope", "deploy", "--json")
    assert status == 1
    assert json.loads(out)["record"]["decision"] == "refused"


def test_json_usage_errors_print_nothing_on_stdout(run: Run) -> None:
    status, out, err = run("call", "fly_list_apps", "--args", "[1]", "--json")
    assert (status, out) == (2, "")
    assert "--args must be a JSON object" in err


@pytest.mark.parametrize(("flag", "asks"), [((), True), (("--no-check-scope",), False)])
def test_check_scope_flag(fake: FakeFly, run: Run, flag: tuple[str, ...], asks: bool) -> None:
    status, _, err = run(
        "call",
        "fly_restart_machine",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        '{"machine_id": "3d8d9015b23489"}',
        *flag,
    )
    assert status == 0, err
    assert any(r.path.startswith("/v1/tokens/") for r in fake.requests) is asks
    assert any(r.path.endswith("/restart") for r in fake.requests)
