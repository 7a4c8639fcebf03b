"""StoreApproval through the toolkit: pending, approved once, rejected, expired, changed."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from langchain_core.messages import ToolCall

from fly_tools import Pending, StoreApproval
from fly_tools.approvals import ApprovalStore
from fly_tools.approvals.entries import APPROVED_TTL, PENDING_TTL
from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from fly_tools.cli.approvals import main as approvals_cli
from fly_tools.guards import format_trail
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_3
from fly_tools.tools.runtime import FlyToolError
from tests.approvals.conftest import DELETE_OLD, Agent, Clock, agent_on, approve

OLD_PATH = f"/v1/apps/web/volumes/{VOL_DATA_OLD}"


def pending_id(error: FlyToolError) -> str:
    found = re.search(
        r"pending approval (\w+): a person must approve question \1 with their approver key",
        str(error),
    )
    assert found, str(error)
    return found[1]


def ask(agent: Agent, args: dict[str, str] = DELETE_OLD) -> str:
    """Make the call, expect it pending, return the approval id."""
    with pytest.raises(FlyToolError) as caught:
        agent.toolkit.call("fly_delete_volume", args)
    assert caught.value.artifact["executed"] is False
    return pending_id(caught.value)


def test_pending_then_approved_by_a_person_then_exactly_one_delete(
    agent: Agent, store: ApprovalStore
) -> None:
    approval_id = ask(agent)
    assert agent.deletes() == []
    assert ask(agent) == approval_id  # asking again reuses the question
    assert [a.id for a in store.entries()] == [approval_id]
    # a person answers with the CLI's own function (the store object stands for its URL)
    approve(store, approval_id, "alice@laptop", "cleanup ticket 42")
    content, _ = agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert "Deleted volume" in content
    assert agent.deletes() == [OLD_PATH]
    record = agent.records[-1]
    assert (record.decision, record.decided_by, record.outcome) == (
        "approved",
        "alice@laptop",
        "ok",
    )
    assert store.get(approval_id).status == "spent"  # type: ignore[union-attr]
    # used once: the same call again asks again, and sends nothing
    assert ask(agent) != approval_id
    assert agent.deletes() == [OLD_PATH]


def test_the_audit_record_says_pending_not_rejected(agent: Agent) -> None:
    approval_id = ask(agent)
    record = agent.records[-1]
    assert (record.decision, record.outcome) == ("pending", "not_executed")
    assert f"pending approval {approval_id}" in (record.error or "")
    assert "rejected by" not in record.sentence
    assert "waits for a person: pending approval" in format_trail([record])


def test_a_rejection_is_told_with_who_and_why_and_sends_nothing(
    agent: Agent, store: ApprovalStore
) -> None:
    approval_id = ask(agent)
    store.answer(approval_id, "rejected", "bob", "that volume holds the audit backups")
    with pytest.raises(FlyToolError, match=r"rejected by bob.*audit backups"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == []
    assert (agent.records[-1].decision, agent.records[-1].decided_by) == ("rejected", "bob")


def test_an_expired_question_or_approval_sends_nothing(
    agent: Agent, store: ApprovalStore, clock: Clock
) -> None:
    first = ask(agent)
    clock.advance(PENDING_TTL + 1)
    assert store.get(first).status_at(clock()) == "expired"  # type: ignore[union-attr]
    second = ask(agent)  # the expired question is not reused
    assert second != first
    approve(store, second, "alice", None)
    clock.advance(APPROVED_TTL + 1)
    assert ask(agent) not in (first, second)
    assert agent.deletes() == []


def test_an_argument_changed_after_approval_sends_nothing(
    agent: Agent, store: ApprovalStore
) -> None:
    approval_id = ask(agent)
    approve(store, approval_id, "alice", None)
    other_volume = {"app_name": "web", "volume_id": VOL_DATA}
    assert ask(agent, other_volume) != approval_id
    assert agent.deletes() == []
    assert store.get(approval_id).status == "approved"  # type: ignore[union-attr]


def test_a_machine_that_changed_version_after_the_question_is_asked_again(
    agent: Agent, store: ApprovalStore
) -> None:
    args = {"app_name": "web", "machine_id": WEB_3, "image": "nginx:1.27"}
    agent_kit = agent_on(store, fake=agent.fake, confirm_at="disruptive")  # updates gated too
    with pytest.raises(FlyToolError) as caught:
        agent_kit.toolkit.call("fly_update_machine", args)
    approval_id = pending_id(caught.value)
    approve(store, approval_id, "alice", None)
    # someone else changes the machine between the question and the retry
    agent.fake.client("org").call("fly_update_machine", {**args, "image": "nginx:1.28"})
    writes_before = [r for r in agent.fake.requests if r.method == "POST"]
    with pytest.raises(FlyToolError) as again:
        agent_kit.toolkit.call("fly_update_machine", args)
    assert pending_id(again.value) != approval_id
    assert [r for r in agent.fake.requests if r.method == "POST"] == writes_before


def test_a_target_that_reads_differently_after_the_question_is_asked_again(
    agent: Agent, store: ApprovalStore
) -> None:
    approval_id = ask(agent)
    approve(store, approval_id, "alice", None)
    agent.fake.state.apps["web"].volumes[VOL_DATA_OLD].size_gb = 500  # grew meanwhile
    again = ask(agent)
    assert again != approval_id  # a new question, describing the volume as it is now
    assert "500 GB" in store.get(again).description  # type: ignore[union-attr]
    assert agent.deletes() == []
    assert store.get(approval_id).status == "approved"  # type: ignore[union-attr]


def test_through_tool_invoke_as_an_agent_calls_it(agent: Agent, store: ApprovalStore) -> None:
    tool = next(t for t in agent.toolkit.get_tools() if t.name == "fly_delete_volume")
    call = ToolCall(name=tool.name, args=DELETE_OLD, id="call-1", type="tool_call")
    first = tool.invoke(call)
    assert first.status == "error"
    assert "pending approval" in first.content
    approval_id = re.search(r"pending approval (\w+)", first.content)[1]  # type: ignore[index]
    approve(store, approval_id, "alice", None)
    second = tool.invoke({**call, "id": "call-2"})
    assert second.status == "success"
    assert agent.deletes() == [OLD_PATH]
    json.dumps(first.artifact), json.dumps(second.artifact)  # plain JSON for checkpoints


async def test_the_async_path_uses_the_same_store(agent: Agent, store: ApprovalStore) -> None:
    with pytest.raises(FlyToolError) as caught:
        await agent.toolkit.acall("fly_delete_volume", DELETE_OLD)
    approve(store, pending_id(caught.value), "alice", None)
    await agent.toolkit.acall("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == [OLD_PATH]


def test_two_toolkits_racing_on_one_approval_send_once(store: ApprovalStore) -> None:
    first = agent_on(store)
    approval_id = ask(first)
    approve(store, approval_id, "alice", None)
    second = agent_on(store, fake=first.fake)  # another process, the same Fly
    results = []
    for kit in (first, second):
        try:
            kit.toolkit.call("fly_delete_volume", DELETE_OLD)
            results.append("sent")
        except FlyToolError as err:
            results.append("pending" if "pending approval" in str(err) else str(err))
    assert results == ["sent", "pending"]
    assert first.deletes() == [OLD_PATH]


def test_secret_values_never_reach_the_store(tmp_path: Path) -> None:
    store = SqliteApprovalStore(tmp_path / "approvals.db")
    agent = agent_on(store, confirm_at="write")
    value = "sk_live_Zq81-very-secret-value"
    with pytest.raises(FlyToolError, match="pending approval"):
        agent.toolkit.call(
            "fly_set_secret", {"app_name": "web", "secret_name": "STRIPE_KEY", "value": value}
        )
    (asked,) = store.entries()
    assert asked.args["value"] == "[redacted]"
    raw = (tmp_path / "approvals.db").read_bytes()
    with sqlite3.connect(tmp_path / "approvals.db") as db:
        dumped = "\n".join(db.iterdump())
    assert value not in dumped
    assert value.encode() not in raw


def test_the_cli_approves_what_the_hook_left_pending(tmp_path: Path) -> None:
    store = SqliteApprovalStore(tmp_path / "cli.db")
    agent = agent_on(store)
    approval_id = ask(agent)
    assert approvals_cli(["approve", approval_id, "--store", str(store.path), "--by", "carol"]) == 0
    agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert agent.deletes() == [OLD_PATH]
    assert agent.records[-1].decided_by == "carol"


def test_a_request_without_binding_is_refused(tmp_path: Path) -> None:
    from fly_tools.guards.decisions import ActionRequest, Target
    from fly_tools.risk import RiskTier

    store = SqliteApprovalStore(tmp_path / "approvals.db")
    hook = StoreApproval(store)
    request = ActionRequest(
        tool="fly_delete_volume",
        group="volumes",
        risk=RiskTier.DESTRUCTIVE,
        args={},
        target=Target("volume", "web", "vol_1"),
        description="Delete it.",
    )
    decision = hook(request)  # e.g. a request built by hand, not by the toolkit
    assert not isinstance(decision, Pending)
    assert decision.verdict == "rejected"
    assert store.entries() == []
