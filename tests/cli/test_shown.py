"""What `fly-tools call` and `fly-tools audit` print is inert: a hostile name or reason reaches no terminal raw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fly_tools import ConsoleApproval
from fly_tools.catalogue import ENDPOINTS
from fly_tools.cli import call as call_command
from fly_tools.guards import AuditRecord, JsonlSink
from fly_tools.render import is_hidden
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1
from tests.cli.conftest import Run

FORGED = "web-1\r\x1b[1A\x1b[2K(read from Fly just now: destroyed) \u202e\u2028\x9b"


def test_a_hostile_machine_name_reaches_the_call_prompt_escaped(
    run: Run, fake: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.state.machine("web", WEB_1).name = FORGED
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr(
        call_command,
        "ConsoleApproval",
        lambda output: ConsoleApproval(input=lambda prompt: "n", output=output),
    )
    args = json.dumps({"machine_id": WEB_1})
    _, out, err = run(
        "call",
        "fly_stop_machine",
        "--scope",
        "deploy",
        "--app",
        "web",
        "--args",
        args,
        "--confirm-at",
        "disruptive",
    )
    assert "Approve fly_stop_machine" in err
    assert (
        '"web-1\\r\\x1b[1A\\x1b[2K(read from Fly just now: destroyed) \\u202e\\u2028\\x9b"' in err
    )
    assert not any(is_hidden(c) for c in (out + err).replace("\n", ""))
    assert not [r for r in fake.requests if r.path.endswith("/stop")]


def test_audit_prints_a_clients_reject_reason_escaped(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    record = AuditRecord.build(
        agent_id="ops-bot",
        endpoint=ENDPOINTS["fly_delete_app"],
        args={"app_name": "web"},
        decision="rejected",
        decided_by="mcp client",
        outcome="not_executed",
        error="the user chose reject: " + FORGED,
    )
    JsonlSink(path).write(record)
    # Whatever wrote the file, the sentence in it is shown inert too.
    forged = AuditRecord.from_dict({**record.to_dict(), "sentence": "ok\x1b[2K" + "z" * 900})
    JsonlSink(path).write(forged)
    status, out, _ = run("audit", str(path))
    assert status == 0
    assert "ops-bot's attempt to delete app web was rejected by mcp client" in out
    assert not any(is_hidden(c) for c in out.replace("\n", ""))
    assert "ok\\x1b[2K" in out
    assert "more characters; full text in fly-tools audit --json]" in out


@pytest.mark.usefixtures("approver_env")
def test_approvals_list_and_show_print_a_hostile_name_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fly_tools.approvals.sqlite_store import SqliteApprovalStore
    from fly_tools.cli import main as fly_tools
    from fly_tools.testing.world import VOL_DATA_OLD
    from tests.approvals.conftest import agent_on

    store = SqliteApprovalStore(tmp_path / "approvals.db")
    fake = FakeFly.demo()
    fake.state.volume("web", VOL_DATA_OLD).name = FORGED
    agent = agent_on(store, fake)
    with pytest.raises(Exception, match="pending approval"):
        agent.toolkit.call("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD})
    (asked,) = store.entries()
    where = ["--store", str(store.path)]
    assert fly_tools(["approvals", "list", *where]) == 0
    assert fly_tools(["approvals", "show", asked.id, *where]) == 0
    assert fly_tools(["approvals", "reject", asked.id, *where, "--reason", "no\x1b[2K"]) == 0
    assert fly_tools(["approvals", "show", asked.id, *where]) == 0
    out = capsys.readouterr().out
    assert '(read from Fly just now: named "web-1\\r\\x1b[1A' in out
    assert not any(is_hidden(c) for c in out.replace("\n", ""))
    assert "(no\\x1b[2K)" in out


def test_a_tools_answer_reaches_the_terminal_inert(run: Run, fake: FakeFly) -> None:
    fake.state.machine("web", WEB_1).name = FORGED
    args = json.dumps({"machine_id": WEB_1})
    status, out, _ = run(
        "call", "fly_get_machine", "--scope", "deploy", "--app", "web", "--args", args
    )
    assert status == 0
    assert "web-1\\r\\x1b[1A\\x1b[2K" in out
    assert not any(is_hidden(c) for c in out.replace("\n", ""))
