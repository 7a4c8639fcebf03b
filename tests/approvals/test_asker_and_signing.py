"""An answer in the store is spent only by the caller who asked, and only when a person signed it."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fly_tools.approvals import ApprovalError, ApprovalStore, StoreApproval
from fly_tools.approvals.hook import answer_signed
from fly_tools.approvals.signing import (
    SigningError,
    generate_key_file,
    load_private_key,
    public_text,
)
from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from fly_tools.cli.approvals import main as approvals_cli
from fly_tools.guards import AuditLog, MemorySink
from fly_tools.testing import FakeFly
from fly_tools.toolkit import FlyToolkit
from fly_tools.tools.runtime import FlyToolError
from tests.approvals.conftest import DELETE_OLD, Agent, agent_on, approve
from tests.approvals.test_hook import OLD_PATH, ask
from tests.approver import APPROVER, APPROVER_KEY

KMS = "fly_request_kms_token"


def rogue(store: ApprovalStore, fake: FakeFly, **client_options: object) -> Agent:
    """Toolkit B: another token (and host), agent rogue-bot, the same store and Fly."""
    memory = MemorySink()
    client = fake.client("org", token=fake.issue_token("org"), **client_options)  # type: ignore[arg-type]
    hook = StoreApproval(store, approvers=APPROVER)
    toolkit = FlyToolkit(
        client=client, scope="org", confirm=hook, audit=AuditLog(memory), agent_id="rogue-bot"
    )
    return Agent(fake, toolkit, memory, hook)


def test_another_caller_cannot_spend_an_approval_given_to_the_asker(store: ApprovalStore) -> None:
    asker = agent_on(store, agent_id="ops-bot")
    approval_id = ask(asker)
    approve(store, approval_id, "alice@oncall")
    other = rogue(store, asker.fake)
    with pytest.raises(FlyToolError, match="pending approval") as caught:
        other.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert approval_id not in str(caught.value)  # B's own question, not A's answer
    assert asker.deletes() == []
    assert store.get(approval_id).status == "approved"  # type: ignore[union-attr]
    asker.toolkit.call("fly_delete_volume", DELETE_OLD)  # A still spends it, once
    assert asker.deletes() == [OLD_PATH]
    assert ask(asker) != approval_id


@pytest.mark.parametrize(
    "change",
    [
        {"agent_id": "rogue-bot"},  # same token, another agent
        {"app": "web"},  # same token, a toolkit bound to an app
        {"base_url": "https://api.other.example"},  # same token, another API host
    ],
)
def test_the_same_token_as_another_agent_app_or_host_is_another_asker(
    store: ApprovalStore, change: dict[str, str]
) -> None:
    asker = agent_on(store, agent_id="ops-bot")
    approval_id = ask(asker)
    approve(store, approval_id)
    fake = asker.fake
    client_options = {"base_url": change["base_url"]} if "base_url" in change else {}
    toolkit = FlyToolkit(
        client=fake.client("org", **client_options),
        scope="org",
        app=change.get("app"),
        agent_id=change.get("agent_id", "ops-bot"),
        confirm=StoreApproval(store, approvers=APPROVER),
    )
    args = {"volume_id": DELETE_OLD["volume_id"]} if "app" in change else DELETE_OLD
    with pytest.raises(FlyToolError, match="pending approval"):
        toolkit.call("fly_delete_volume", args)
    assert asker.deletes() == []


async def test_another_caller_cannot_spend_it_async(store: ApprovalStore) -> None:
    asker = agent_on(store, agent_id="ops-bot")
    approval_id = ask(asker)
    approve(store, approval_id)
    other = rogue(store, asker.fake)
    with pytest.raises(FlyToolError, match="pending approval"):
        await other.toolkit.acall("fly_delete_volume", DELETE_OLD)
    assert asker.deletes() == []
    await asker.toolkit.acall("fly_delete_volume", DELETE_OLD)
    assert asker.deletes() == [OLD_PATH]


def test_the_token_is_never_stored_only_its_keyed_fingerprint(tmp_path: Path) -> None:
    store = SqliteApprovalStore(tmp_path / "a.db")
    asker = agent_on(store, agent_id="ops-bot")
    ask(asker)
    token = asker.fake.tokens["org"]
    with sqlite3.connect(tmp_path / "a.db") as db:
        dumped = "\n".join(db.iterdump())
    assert token not in dumped
    (question,) = store.entries()
    assert question.asker["agent"] == "ops-bot"
    assert question.asker["token"]
    assert question.asker["token"] not in token


# ------------------------------------------------------------ finding 6: signed answers


def test_an_unsigned_answer_from_the_asking_process_is_not_spent(store: ApprovalStore) -> None:
    agent = agent_on(store)
    approval_id = ask(agent)
    store.answer(approval_id, "approved", "alice@oncall", None)  # what the agent could do
    with pytest.raises(FlyToolError, match="no valid approver signature") as caught:
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert "fly-tools approvals approve" not in str(caught.value)
    assert agent.deletes() == []
    assert store.get(approval_id).status == "approved"  # type: ignore[union-attr]


def test_an_answer_signed_by_an_unknown_key_is_not_spent(store: ApprovalStore) -> None:
    agent = agent_on(store)
    approval_id = ask(agent)
    answer_signed(store, Ed25519PrivateKey.generate(), approval_id, "approved", "mallory")
    with pytest.raises(FlyToolError, match="no valid approver signature"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == []


def test_an_edited_sqlite_row_no_longer_matches_its_signature(tmp_path: Path) -> None:
    store = SqliteApprovalStore(tmp_path / "a.db")
    agent = agent_on(store)
    approval_id = ask(agent)
    approve(store, approval_id, "alice")
    with sqlite3.connect(tmp_path / "a.db") as db:
        (data,) = db.execute("SELECT data FROM approvals WHERE id = ?", (approval_id,)).fetchone()
        row = json.loads(data)
        row["expires_at"] += 86_400  # stretch the answer's life
        db.execute(
            "UPDATE approvals SET data = ?, expires_at = ? WHERE id = ?",
            (json.dumps(row), row["expires_at"], approval_id),
        )
    with pytest.raises(FlyToolError, match="no valid approver signature"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == []


def test_a_rejected_row_edited_to_approved_is_refused(tmp_path: Path) -> None:
    store = SqliteApprovalStore(tmp_path / "a.db")
    agent = agent_on(store)
    approval_id = ask(agent)
    answer_signed(store, APPROVER_KEY, approval_id, "rejected", "bob")
    with sqlite3.connect(tmp_path / "a.db") as db:
        (data,) = db.execute("SELECT data FROM approvals WHERE id = ?", (approval_id,)).fetchone()
        row = {**json.loads(data), "status": "approved"}
        db.execute(
            "UPDATE approvals SET data = ?, status = 'approved' WHERE id = ?",
            (json.dumps(row), approval_id),
        )
    with pytest.raises(FlyToolError, match="no valid approver signature"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == []


def test_the_pending_text_names_no_command_the_model_could_run(tmp_path: Path) -> None:
    store = SqliteApprovalStore(tmp_path / "custom.db")
    agent = agent_on(store)
    with pytest.raises(FlyToolError) as caught:
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    text = str(caught.value)
    assert "a person must approve question" in text
    for runnable in ("fly-tools", "approvals approve", "--store", str(tmp_path), "`"):
        assert runnable not in text


def test_without_approver_keys_every_gated_call_is_refused(
    store: ApprovalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLY_TOOLS_APPROVER_KEYS")
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client("org"), scope="org", confirm=StoreApproval(store))
    with pytest.raises(FlyToolError, match="no approver keys are configured"):
        toolkit.call("fly_delete_volume", DELETE_OLD)
    assert [r for r in fake.requests if r.method == "DELETE"] == []
    assert store.entries() == []


def test_an_unbound_hook_refuses() -> None:
    from fly_tools.guards.decisions import ActionRequest, Target
    from fly_tools.risk import RiskTier

    hook = StoreApproval(SqliteApprovalStore(Path(os.devnull + "-never")), approvers=APPROVER)
    request = ActionRequest(
        tool="fly_delete_volume",
        group="volumes",
        risk=RiskTier.DESTRUCTIVE,
        args={},
        target=Target("volume", "web", "vol_1"),
        description="Delete it.",
        binding="b",
    )
    assert hook(request).verdict == "rejected"


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_store_file_others_may_write_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "loose.db"
    path.touch()
    path.chmod(mode)
    agent = agent_on(SqliteApprovalStore(path))
    with pytest.raises(FlyToolError, match=rf"can be written by others.*chmod 600 {path}"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == []
    with pytest.raises(ApprovalError, match="chmod 600"):
        SqliteApprovalStore(path).entries()


def test_keygen_writes_a_0600_key_and_prints_its_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store: ApprovalStore
) -> None:
    out = tmp_path / "keys" / "alice.key"
    assert approvals_cli(["keygen", "--out", str(out)]) == 0
    public = capsys.readouterr().out.strip()
    assert public.startswith("ed25519:")
    assert out.stat().st_mode & 0o777 == 0o600
    assert approvals_cli(["keygen", "--out", str(out)]) == 1  # never overwrites
    key = load_private_key(out)
    assert public_text(key.public_key()) == public
    # a toolkit trusting that key spends alice's signed answer
    agent = agent_on(store, approvers=public)
    approval_id = ask(agent)
    answer_signed(store, key, approval_id, "approved", "alice")
    agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == [OLD_PATH]


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    generate_key_file(path)
    path.chmod(0o644)
    with pytest.raises(SigningError, match="chmod 600"):
        load_private_key(path)
    assert (
        approvals_cli(["approve", "abc", "--key", str(path), "--store", str(tmp_path / "s.db")])
        == 1
    )


def test_the_cli_without_a_key_cannot_approve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SqliteApprovalStore(tmp_path / "s.db")
    agent = agent_on(store)
    approval_id = ask(agent)
    monkeypatch.setenv("FLY_TOOLS_APPROVER_KEY", str(tmp_path / "missing.key"))
    assert approvals_cli(["approve", approval_id, "--store", str(store.path)]) == 1
    assert "keygen" in capsys.readouterr().err
    assert store.get(approval_id).status == "pending"  # type: ignore[union-attr]
