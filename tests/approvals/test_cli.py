"""``fly-tools approvals`` and ``--store`` on ``fly-tools call`` and ``fly-tools mcp``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mcp import Client

from fly_tools.approvals import StoreApproval
from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from fly_tools.cli import main as fly_tools
from fly_tools.mcp import build_server
from fly_tools.testing import FakeFly
from fly_tools.toolkit import FlyToolkit
from tests.approvals.conftest import DELETE_OLD, agent_on, approve


def pending(store: SqliteApprovalStore) -> str:
    """Leave the demo delete pending in ``store``; its id."""
    agent = agent_on(store)
    with pytest.raises(Exception, match="pending approval"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    (asked,) = store.entries()
    return asked.id


@pytest.fixture
def store(tmp_path: Path) -> SqliteApprovalStore:
    return SqliteApprovalStore(tmp_path / "approvals.db")


def test_list_show_and_approve_record_who(
    store: SqliteApprovalStore, capsys: pytest.CaptureFixture[str]
) -> None:
    approval_id = pending(store)
    where = ["--store", str(store.path)]
    assert fly_tools(["approvals", "list", *where]) == 0
    listed = capsys.readouterr().out
    assert re.match(
        rf"{approval_id}  pending .* fly_delete_volume on volume vol_\w+ in app web", listed
    )
    assert fly_tools(["approvals", "show", approval_id, *where]) == 0
    shown = capsys.readouterr().out
    assert f"Approval {approval_id}: pending" in shown
    assert "Delete volume" in shown
    argv = ["approvals", "approve", approval_id, *where, "--by", "dana", "--reason", "ticket 7"]
    assert fly_tools(argv) == 0
    assert f"{approval_id} approved by dana" in capsys.readouterr().out
    assert fly_tools(["approvals", "show", approval_id, *where, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["status"], document["answered_by"], document["reason"]) == (
        "approved",
        "dana",
        "ticket 7",
    )


def test_answering_twice_or_a_missing_id_fails_with_one_line(
    store: SqliteApprovalStore, capsys: pytest.CaptureFixture[str]
) -> None:
    approval_id = pending(store)
    where = ["--store", str(store.path)]
    assert fly_tools(["approvals", "reject", approval_id, *where, "--reason", "no"]) == 0
    capsys.readouterr()
    assert fly_tools(["approvals", "approve", approval_id, *where]) == 1
    err = capsys.readouterr().err
    assert err.strip().endswith("only a pending one is answered")
    assert len(err.splitlines()) == 1
    assert fly_tools(["approvals", "approve", "0000000000", *where]) == 1
    assert "no approval 0000000000" in capsys.readouterr().err
    assert store.get(approval_id).status == "rejected"  # type: ignore[union-attr]


def test_the_default_who_is_user_at_host(
    store: SqliteApprovalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    approval_id = pending(store)
    monkeypatch.setattr("getpass.getuser", lambda: "erin")
    monkeypatch.setattr("socket.gethostname", lambda: "bastion")
    assert fly_tools(["approvals", "approve", approval_id, "--store", str(store.path)]) == 0
    assert store.get(approval_id).answered_by == "erin@bastion"  # type: ignore[union-attr]


def test_list_json_and_pending_filter(
    store: SqliteApprovalStore, capsys: pytest.CaptureFixture[str]
) -> None:
    approval_id = pending(store)
    approve(store, approval_id, "x")
    assert fly_tools(["approvals", "list", "--pending", "--store", str(store.path)]) == 0
    assert capsys.readouterr().out.strip() == "No approvals are pending."
    assert fly_tools(["approvals", "list", "--json", "--store", str(store.path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [(a["id"], a["status"]) for a in document["approvals"]] == [(approval_id, "approved")]


def test_call_with_store_leaves_it_pending_then_runs_once_approved(
    store: SqliteApprovalStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both runs talk to one Fly with one token, as two runs with FLY_API_TOKEN set do: an
    # answer is spent only by the caller (token, host, agent) that asked.
    world = FakeFly.demo()
    monkeypatch.setattr(
        "fly_tools.cli.options._fake_client",
        lambda scope, app, **options: world.client(scope=scope, app=app, **options),
    )
    argv = [
        "call",
        "fly_delete_volume",
        "--scope",
        "org",
        "--args",
        json.dumps(DELETE_OLD),
        "--store",
        str(store.path),
    ]
    assert fly_tools(argv) == 1
    err = capsys.readouterr().err
    found = re.search(r"was not sent: pending approval (\w+): a person must approve", err)
    assert found, err
    assert fly_tools(["approvals", "approve", found[1], "--store", str(store.path)]) == 0
    capsys.readouterr()
    assert fly_tools(argv) == 0
    assert "Deleted volume" in capsys.readouterr().out
    assert store.get(found[1]).status == "spent"  # type: ignore[union-attr]


def test_call_with_store_and_yes_is_a_usage_error(
    store: SqliteApprovalStore, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "call",
        "fly_delete_volume",
        "--scope",
        "org",
        "--args",
        json.dumps(DELETE_OLD),
        "--store",
        str(store.path),
        "--yes",
    ]
    assert fly_tools(argv) == 2
    assert "drop --yes/--no" in capsys.readouterr().err
    assert store.entries() == []


async def test_mcp_with_a_store_answers_pending_instead_of_asking(
    store: SqliteApprovalStore,
) -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.async_client(scope="org"), scope="org")
    server = build_server(toolkit, approvals=StoreApproval(store))
    async with Client(server) as client:  # no form support: it would be refused otherwise
        first = await client.call_tool("fly_delete_volume", DELETE_OLD)
        assert first.is_error
        found = re.search(r"pending approval (\w+)", first.content[0].text)  # type: ignore[union-attr]
        assert found
        approve(store, found[1], "frank")
        second = await client.call_tool("fly_delete_volume", DELETE_OLD)
    assert not second.is_error
    assert [r.path for r in fake.requests if r.method == "DELETE"] == [
        f"/v1/apps/web/volumes/{DELETE_OLD['volume_id']}"
    ]


def test_mcp_store_option_builds_the_store_hook(store: SqliteApprovalStore) -> None:
    from fly_tools.cli.usage import UsageError
    from fly_tools.mcp.cli import build_parser, store_approval

    options = build_parser().parse_args(["--scope", "org", "--store", str(store.path)])
    hook = store_approval(options)
    assert isinstance(hook, StoreApproval)
    assert hook.store.location == str(store.path)
    assert store_approval(build_parser().parse_args(["--scope", "org"])) is None
    with pytest.raises(UsageError, match="unknown approvals store"):
        store_approval(build_parser().parse_args(["--scope", "org", "--store", "ftp://x"]))
