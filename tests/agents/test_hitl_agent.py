"""create_agent + HumanInTheLoopMiddleware + FlyToolkit on the fake: reject, approve, edit."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools import FlyToolkit, MemorySink, RiskTier, interrupt_on
from fly_tools.agents import approval_middleware
from fly_tools.scripted import ScriptedChatModel, call
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD, WEB_2


def _agent(fake: FakeFly, *steps: Any) -> tuple[Any, FlyToolkit]:
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm="upstream",
        agent_id="ops-bot",
    )
    agent = create_agent(
        ScriptedChatModel(script=list(steps)),
        tools=toolkit.get_tools(),
        middleware=approval_middleware(toolkit, reviewer="alice"),
        checkpointer=InMemorySaver(),
    )
    return agent, toolkit


def _records(toolkit: FlyToolkit) -> list[Any]:
    sink = toolkit.audit_log.sinks[0]
    assert isinstance(sink, MemorySink)
    return list(sink.records)


def _deletes(fake: FakeFly) -> list[str]:
    return [r.path for r in fake.requests if r.method == "DELETE"]


def _start(agent: Any, thread: str) -> tuple[dict[str, Any], dict[str, Any]]:
    config = {"configurable": {"thread_id": thread}}
    paused = agent.invoke({"messages": [HumanMessage("remove the loose volume")]}, config)
    return paused, config


def test_run_pauses_before_the_destructive_call() -> None:
    fake = FakeFly.demo()
    agent, _ = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD))
    paused, _ = _start(agent, "pause")
    (pending,) = paused["__interrupt__"]
    request = pending.value["action_requests"][0]
    assert request["name"] == "fly_delete_volume"
    assert VOL_DATA_OLD in request["description"]
    assert "permanently" in request["description"]
    assert _deletes(fake) == []


def test_reject_sends_nothing() -> None:
    fake = FakeFly.demo()
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD))
    _, config = _start(agent, "reject")
    decision = {"type": "reject", "message": "keep it"}
    result = agent.invoke(Command(resume={"decisions": [decision]}), config)
    assert _deletes(fake) == []
    assert VOL_DATA_OLD in fake.state.apps["web"].volumes
    tool_messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert "keep it" in str(tool_messages[-1].content)
    (record,) = _records(toolkit)
    assert (record.tool, record.decision, record.decided_by) == (
        "fly_delete_volume",
        "rejected",
        "alice",
    )
    assert record.outcome == "not_executed"
    assert record.target.id == VOL_DATA_OLD


def test_approve_runs_the_call() -> None:
    fake = FakeFly.demo()
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD))
    _, config = _start(agent, "approve")
    agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config)
    assert _deletes(fake) == [f"/v1/apps/web/volumes/{VOL_DATA_OLD}"]
    records = _records(toolkit)
    assert [(r.tool, r.decision, r.decided_by, r.outcome) for r in records] == [
        ("fly_delete_volume", "approved", "alice", "ok")
    ]


def test_edit_runs_the_edited_call() -> None:
    fake = FakeFly.demo()
    spare = fake.client().call(
        "fly_create_volume", {"app_name": "web", "name": "spare", "region": "ord"}
    )["id"]
    agent, toolkit = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD))
    _, config = _start(agent, "edit")
    edited = {"name": "fly_delete_volume", "args": {"volume_id": spare}}
    agent.invoke(Command(resume={"decisions": [{"type": "edit", "edited_action": edited}]}), config)
    assert _deletes(fake) == [f"/v1/apps/web/volumes/{spare}"]
    assert VOL_DATA_OLD in fake.state.apps["web"].volumes
    assert [(r.decision, r.target.id) for r in _records(toolkit)] == [("edited", spare)]


def test_edit_cannot_reach_another_app() -> None:
    fake = FakeFly.demo()
    agent, _ = _agent(fake, call("fly_delete_volume", volume_id=VOL_DATA_OLD))
    _, config = _start(agent, "edit-app")
    edited = {
        "name": "fly_delete_volume",
        "args": {"volume_id": VOL_DATA_OLD, "app_name": "worker"},
    }
    agent.invoke(Command(resume={"decisions": [{"type": "edit", "edited_action": edited}]}), config)
    # The app stays pinned: whatever the edit says, nothing reaches app worker.
    assert not any("/apps/worker" in r.path for r in fake.requests)


def test_reads_run_without_asking() -> None:
    fake = FakeFly.demo()
    agent, _ = _agent(fake, call("fly_get_machine", machine_id=WEB_2))
    result = agent.invoke(
        {"messages": [HumanMessage("look")]}, {"configurable": {"thread_id": "read"}}
    )
    assert "__interrupt__" not in result
    assert any(r.path.endswith(WEB_2) for r in fake.requests)


@pytest.mark.parametrize("threshold", [RiskTier.DISRUPTIVE, "disruptive"])
def test_threshold_moves_the_gate(threshold: RiskTier | str) -> None:
    toolkit = FlyToolkit(client=FakeFly.demo().client(), scope="org", confirm="upstream")
    mapping = interrupt_on(toolkit.get_tools(), threshold=threshold)
    assert "fly_stop_machine" in mapping
    assert "fly_start_machine" not in mapping
    assert "fly_delete_app" in mapping
