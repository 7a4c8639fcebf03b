"""create_agent + approval_middleware + FlyToolkit on the fake: reject, approve, edit, respond."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools import FlyToolkit, MemorySink, MiddlewareApproval, RiskTier, interrupt_on
from fly_tools.agents import FlyApprovalMiddleware, FlyReviewSnapshot, approval_middleware
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call
from fly_tools.testing.world import VOL_DATA_OLD, WEB_2

MODES = ["batched", "per_call"]


def _toolkit(fake: FakeFly, **options: Any) -> FlyToolkit:
    return FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=MiddlewareApproval(reviewer="alice"),
        agent_id="ops-bot",
        **options,
    )


def _agent(fake: FakeFly, *steps: Any, mode: str = "batched") -> tuple[Any, FlyToolkit]:
    toolkit = _toolkit(fake)
    agent = create_agent(
        ScriptedChatModel(script=list(steps)),
        tools=toolkit.get_tools(),
        middleware=approval_middleware(toolkit, interrupt_mode=mode),
        checkpointer=InMemorySaver(),
    )
    return agent, toolkit


def _records(toolkit: FlyToolkit) -> list[Any]:
    """The audit records: one per call (the reads that describe a call are in its `reads`)."""
    sink = toolkit.audit_log.sinks[0]
    assert isinstance(sink, MemorySink)
    return list(sink.records)


def _deletes(fake: FakeFly) -> list[str]:
    return [r.path for r in fake.requests if r.method == "DELETE"]


def _start(agent: Any, thread: str) -> tuple[dict[str, Any], RunnableConfig]:
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    paused = agent.invoke({"messages": [HumanMessage("remove the loose volume")]}, config)
    return paused, config


def _answer(paused: dict[str, Any], mode: str, *decisions: dict[str, Any]) -> Command[Any]:
    if mode == "batched":
        return Command(resume={"decisions": list(decisions)})
    (pending,) = paused["__interrupt__"]
    return Command(resume={pending.id: decisions[0]})


def _description(paused: dict[str, Any]) -> str:
    (pending,) = paused["__interrupt__"]
    value = pending.value
    return str(
        value["action_requests"][0]["description"]
        if "action_requests" in value
        else value["description"]
    )


@pytest.mark.parametrize("mode", MODES)
def test_run_pauses_before_the_destructive_call(mode: str) -> None:
    fake = FakeFly.demo()
    agent, _ = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD), mode=mode)
    paused, _ = _start(agent, "pause")
    description = _description(paused)
    assert VOL_DATA_OLD in description
    assert "read from Fly just now" in description
    assert "not attached" in description
    assert _deletes(fake) == []


@pytest.mark.parametrize("mode", MODES)
def test_reject_sends_nothing_and_is_recorded_once(mode: str) -> None:
    fake = FakeFly.demo()
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD), mode=mode)
    paused, config = _start(agent, "reject")
    result = agent.invoke(_answer(paused, mode, {"type": "reject", "message": "keep it"}), config)
    assert _deletes(fake) == []
    last = [m for m in result["messages"] if isinstance(m, ToolMessage)][-1]
    assert "keep it" in str(last.content)
    assert last.status == "error"
    assert last.artifact["executed"] is False
    (record,) = _records(toolkit)
    assert (record.tool, record.decision, record.decided_by, record.outcome) == (
        "fly_delete_volume",
        "rejected",
        "alice",
        "not_executed",
    )
    assert record.context["tool_call_id"]


@pytest.mark.parametrize("mode", MODES)
def test_approve_runs_the_call_once_with_its_receipt(mode: str) -> None:
    fake = FakeFly.demo()
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD), mode=mode)
    paused, config = _start(agent, "approve")
    agent.invoke(_answer(paused, mode, {"type": "approve", "by": "bob"}), config)
    assert _deletes(fake) == [f"/v1/apps/web/volumes/{VOL_DATA_OLD}"]
    (record,) = _records(toolkit)
    assert (record.decision, record.decided_by, record.outcome) == ("approved", "bob", "ok")
    assert record.receipt_id
    assert record.context["thread_id"] == "approve"


@pytest.mark.parametrize("mode", MODES)
def test_edit_is_described_again_and_runs_only_once_approved(mode: str) -> None:
    fake = FakeFly.demo()
    spare = fake.client().call(
        "fly_create_volume", {"app_name": "web", "name": "spare", "region": "ord"}
    )["id"]
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD), mode=mode)
    paused, config = _start(agent, "edit")
    edited = {"name": "fly_delete_volume", "args": {"volume_id": spare}}
    again = agent.invoke(_answer(paused, mode, {"type": "edit", "edited_action": edited}), config)
    assert _deletes(fake) == []  # not yet: the edited call is asked about again
    description = _description(again)
    assert description.startswith("Edited by the reviewer")
    assert spare in description
    agent.invoke(_answer(again, mode, {"type": "approve"}), config)
    assert _deletes(fake) == [f"/v1/apps/web/volumes/{spare}"]
    assert [(r.decision, r.target.id) for r in _records(toolkit)] == [("edited", spare)]


@pytest.mark.parametrize("mode", MODES)
def test_edit_rejected_on_second_look_sends_nothing(mode: str) -> None:
    fake = FakeFly.demo()
    spare = fake.client().call(
        "fly_create_volume", {"app_name": "web", "name": "spare", "region": "ord"}
    )["id"]
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD), mode=mode)
    paused, config = _start(agent, "edit-no")
    edited = {"name": "fly_delete_volume", "args": {"volume_id": spare}}
    again = agent.invoke(_answer(paused, mode, {"type": "edit", "edited_action": edited}), config)
    agent.invoke(_answer(again, mode, {"type": "reject"}), config)
    assert _deletes(fake) == []
    assert [r.decision for r in _records(toolkit)] == ["rejected"]


def test_edit_cannot_change_the_tool() -> None:
    fake = FakeFly.demo()
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD))
    paused, config = _start(agent, "swap")
    edited = {"name": "fly_delete_app", "args": {}}
    agent.invoke(_answer(paused, "batched", {"type": "edit", "edited_action": edited}), config)
    assert _deletes(fake) == []
    (record,) = _records(toolkit)
    assert record.decision == "rejected"
    assert "cannot change the tool" in (record.error or "")


@pytest.mark.parametrize("mode", MODES)
def test_edit_cannot_reach_another_app(mode: str) -> None:
    fake = FakeFly.demo()
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD), mode=mode)
    paused, config = _start(agent, "edit-app")
    edited = {
        "name": "fly_delete_volume",
        "args": {"volume_id": VOL_DATA_OLD, "app_name": "worker"},
    }
    agent.invoke(_answer(paused, mode, {"type": "edit", "edited_action": edited}), config)
    assert not any("/apps/worker" in r.path for r in fake.requests)
    assert _deletes(fake) == []
    assert [r.decision for r in _records(toolkit)] == ["rejected"]


@pytest.mark.parametrize("mode", MODES)
def test_model_naming_another_app_is_refused_not_redirected(mode: str) -> None:
    fake = FakeFly.demo()
    agent, toolkit = _agent(fake, call("fly_delete_app", app_name="worker"), mode=mode)
    result = agent.invoke(
        {"messages": [HumanMessage("delete worker")]}, {"configurable": {"thread_id": "x"}}
    )
    assert "__interrupt__" not in result  # nothing to approve: the call cannot run
    assert _deletes(fake) == []
    assert set(fake.state.apps) >= {"web", "worker"}
    (record,) = _records(toolkit)
    assert record.decision == "refused"
    last = [m for m in result["messages"] if isinstance(m, ToolMessage)][-1]
    assert last.status == "error"


@pytest.mark.parametrize("mode", MODES)
def test_respond_is_recorded_and_sends_nothing(mode: str) -> None:
    fake = FakeFly.demo()
    toolkit = _toolkit(fake)
    answer = {"type": "respond", "message": "I deleted it by hand already"}
    middleware = approval_middleware(toolkit, interrupt_mode=mode, allowed_decisions=["respond"])
    agent = create_agent(
        ScriptedChatModel(script=[call("fly_delete_volume", volume_id=VOL_DATA_OLD)]),
        tools=toolkit.get_tools(),
        middleware=middleware,
        checkpointer=InMemorySaver(),
    )
    paused, config = _start(agent, "respond")
    agent.invoke(_answer(paused, mode, answer), config)
    assert _deletes(fake) == []
    assert [r.decision for r in _records(toolkit)] == ["responded"]


def test_reads_run_without_asking() -> None:
    fake = FakeFly.demo()
    agent, _ = _agent(fake, call("fly_get_machine", machine_id=WEB_2))
    result = agent.invoke(
        {"messages": [HumanMessage("look")]}, {"configurable": {"thread_id": "read"}}
    )
    assert "__interrupt__" not in result
    assert any(r.path.endswith(WEB_2) for r in fake.requests)


def test_plain_hitl_middleware_cannot_approve_a_gated_call() -> None:
    fake = FakeFly.demo()
    toolkit = _toolkit(fake)
    agent = create_agent(
        ScriptedChatModel(script=[call("fly_delete_volume", volume_id=VOL_DATA_OLD)]),
        tools=toolkit.get_tools(),
        middleware=[HumanInTheLoopMiddleware(interrupt_on=interrupt_on(toolkit.get_tools()))],
        checkpointer=InMemorySaver(),
    )
    paused, config = _start(agent, "plain")
    result = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
    assert paused["__interrupt__"]
    assert _deletes(fake) == []
    last = [m for m in result["messages"] if isinstance(m, ToolMessage)][-1]
    assert "approval_middleware" in str(last.content)
    assert [r.decision for r in _records(toolkit)] == ["refused"]


def test_no_middleware_at_all_refuses() -> None:
    fake = FakeFly.demo()
    toolkit = _toolkit(fake)
    agent = create_agent(
        ScriptedChatModel(script=[call("fly_delete_volume", volume_id=VOL_DATA_OLD)]),
        tools=toolkit.get_tools(),
    )
    agent.invoke({"messages": [HumanMessage("go")]})
    assert _deletes(fake) == []
    assert [r.decision for r in _records(toolkit)] == ["refused"]


def test_middleware_needs_a_middleware_approval_toolkit() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client(), scope="org")
    with pytest.raises(ValueError, match="MiddlewareApproval"):
        approval_middleware(toolkit)


@pytest.mark.parametrize("threshold", [RiskTier.DISRUPTIVE, "disruptive"])
def test_threshold_moves_the_gate(threshold: RiskTier | str) -> None:
    toolkit = FlyToolkit(client=FakeFly.demo().client(), scope="org")
    mapping = interrupt_on(toolkit.get_tools(), threshold=threshold)
    assert "fly_stop_machine" in mapping
    assert "fly_start_machine" not in mapping
    assert "fly_delete_app" in mapping


def test_confirm_at_moves_what_the_middleware_asks_about() -> None:
    fake = FakeFly.demo()
    toolkit = _toolkit(fake, confirm_at="disruptive")
    middleware, snapshot = approval_middleware(toolkit)
    assert isinstance(middleware, FlyApprovalMiddleware)
    assert isinstance(snapshot, FlyReviewSnapshot)
    # Every change tool has a review entry (a change after an untrusted read may need
    # one); which calls are asked about is the toolkit's threshold, outside such threads.
    assert middleware._is_gated({"name": "fly_stop_machine", "id": "1"})
    assert not middleware._is_gated({"name": "fly_start_machine", "id": "2"})
    assert "fly_list_machines" not in middleware.interrupt_on


def test_a_call_to_a_tool_the_agent_lacks_is_recorded() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.client(scope="readonly"),
        scope="readonly",
        app="web",
        confirm=MiddlewareApproval(),
    )
    agent = create_agent(
        ScriptedChatModel(script=[call("fly_stop_machine", machine_id=WEB_2)]),
        tools=toolkit.get_tools(),
        middleware=approval_middleware(toolkit),
        checkpointer=InMemorySaver(),
    )
    agent.invoke({"messages": [HumanMessage("stop")]}, {"configurable": {"thread_id": "t"}})
    assert [r.method for r in fake.requests] == []
    (record,) = _records(toolkit)
    assert (record.tool, record.decision) == ("fly_stop_machine", "refused")
