"""Red team: one approval, resumed twice, runs once (the question is spent in the ledger)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import call
from fly_tools.testing.world import VOL_DATA_OLD
from tests.redteam.support import assert_only_approved
from tests.redteam.test_middleware_door import DELETE_OLD, Rig, mode

__all__ = ["mode"]

SCRIPT = [call("fly_delete_volume", volume_id=VOL_DATA_OLD)]


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def run_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def resume_at(rig: Rig, paused: dict[str, Any], config: RunnableConfig) -> Any:
    """Resume ``paused`` (the interrupted result) with an approval, at checkpoint ``config``."""
    value: Command[Any]
    if rig.mode == "batched":
        value = Command(resume={"decisions": [{"type": "approve", "by": "alice"}]})
    else:
        value = Command(resume={p.id: {"type": "approve"} for p in paused["__interrupt__"]})
    if rig.run_async:
        return await rig.agent.ainvoke(value, config)
    return rig.agent.invoke(value, config)


async def test_the_same_paused_checkpoint_resumed_twice_deletes_once(
    mode: str, run_async: bool
) -> None:
    saver, fake = InMemorySaver(), FakeFly.demo()
    before = Rig(fake, SCRIPT, mode=mode, run_async=run_async, saver=saver)
    paused = await before.start()
    assert paused["__interrupt__"]
    paused_at = before.agent.get_state({"configurable": {"thread_id": "t1"}}).config
    # a worker resumes it: one delete
    first = Rig(fake, SCRIPT, mode=mode, run_async=run_async, saver=saver)
    await resume_at(first, paused, paused_at)
    assert_only_approved(fake, [DELETE_OLD])
    # a second worker (new toolkit, same checkpointer) resumes the same paused checkpoint
    second = Rig(fake, SCRIPT, mode=mode, run_async=run_async, saver=saver)
    await resume_at(second, paused, paused_at)
    assert_only_approved(fake, [DELETE_OLD])
    refused = [r for r in second.calls() if r.tool == "fly_delete_volume"]
    assert refused
    assert refused[-1].decision == "refused"
    assert "already given and used" in (refused[-1].error or "")


async def test_a_shared_sqlite_ledger_stops_the_replay_in_another_process(
    tmp_path: Path, run_async: bool
) -> None:
    # Workers in two processes: each has its own memory, so they share a ledger file.
    saver, fake = InMemorySaver(), FakeFly.demo()

    def worker() -> Rig:
        ledger = SqliteApprovalStore(tmp_path / "ledger.db")  # a new handle per process
        return Rig(fake, SCRIPT, mode="batched", run_async=run_async, saver=saver, ledger=ledger)

    before = worker()
    paused = await before.start()
    paused_at = before.agent.get_state({"configurable": {"thread_id": "t1"}}).config
    await resume_at(worker(), paused, paused_at)
    import fly_tools.approvals.ledger as ledger_module

    # forget everything this process's memory knows: only the file can stop the replay
    ledger_module.PROCESS_LEDGER._rows.clear()
    await resume_at(worker(), paused, paused_at)
    assert_only_approved(fake, [DELETE_OLD])
    (question,) = SqliteApprovalStore(tmp_path / "ledger.db").entries()
    assert question.status == "spent"


async def test_a_question_unknown_to_this_process_is_refused_not_run(run_async: bool) -> None:
    # Another process with the default (in-memory) ledger cannot tell a first resume from
    # a replay: it refuses, and says how to share the ledger.
    import fly_tools.approvals.ledger as ledger_module

    saver, fake = InMemorySaver(), FakeFly.demo()
    before = Rig(fake, SCRIPT, mode="per_call", run_async=run_async, saver=saver)
    paused = await before.start()
    paused_at = before.agent.get_state({"configurable": {"thread_id": "t1"}}).config
    ledger_module.PROCESS_LEDGER._rows.clear()  # as a new process's memory
    after = Rig(fake, SCRIPT, mode="per_call", run_async=run_async, saver=saver)
    await resume_at(after, paused, paused_at)
    assert_only_approved(fake, [])
    (record,) = [r for r in after.calls() if r.tool == "fly_delete_volume"]
    assert "not in this approval ledger" in (record.error or "")


# ------------------------------------------------------------ findings 2, 3 and 7


def _update_rig(fake: FakeFly, mode: str, run_async: bool, script: list[Any]) -> Rig:
    """A rig whose toolkit also gates updates (confirm_at disruptive)."""
    from langchain.agents import create_agent

    from fly_tools import AuditLog, FlyToolkit, MiddlewareApproval
    from fly_tools.agents import approval_middleware
    from fly_tools.testing.scripted import ScriptedChatModel

    rig = Rig(fake, script, mode=mode, run_async=run_async)
    rig.toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=MiddlewareApproval(reviewer="alice"),
        confirm_at="disruptive",
        audit=AuditLog(rig.sink),
    )
    rig.agent = create_agent(
        ScriptedChatModel(script=script),
        tools=rig.toolkit.get_tools(),
        middleware=approval_middleware(rig.toolkit, interrupt_mode=mode),
        checkpointer=rig.saver,
    )
    return rig


async def test_the_version_pinned_is_the_one_the_reviewer_saw(mode: str, run_async: bool) -> None:
    from fly_tools.testing.world import WEB_3

    fake = FakeFly.demo()
    shown_version = fake.state.apps["web"].machines[WEB_3].version
    rig = _update_rig(
        fake, mode, run_async, [call("fly_update_machine", machine_id=WEB_3, memory_mb=512)]
    )
    await rig.start()
    # someone else changes the machine's config while the question waits
    other = fake.client("org")
    other.call(
        "fly_update_machine",
        {"app_name": "web", "machine_id": WEB_3, "env": {"MODE": "maintenance"}},
    )
    changed_version = fake.state.apps["web"].machines[WEB_3].version
    assert changed_version != shown_version
    await rig.answer({"type": "approve"})
    sent = [r for r in fake.requests if r.method == "POST" and r.path.endswith(WEB_3)]
    mine = sent[-1]  # the agent's update: pinned to what was shown, so Fly refused it
    assert mine.status is not None
    assert mine.status >= 400
    assert fake.state.apps["web"].machines[WEB_3].version == changed_version
    assert "512" not in str(fake.state.apps["web"].machines[WEB_3].config.get("guest"))


async def test_an_edit_is_approved_only_as_it_was_shown(mode: str, run_async: bool) -> None:
    from fly_tools.testing.world import VOL_DATA

    fake = FakeFly.demo()
    rig = Rig(fake, [call("fly_delete_volume", volume_id=VOL_DATA)], mode=mode, run_async=run_async)
    await rig.start()
    edit = {
        "type": "edit",
        "edited_action": {"name": "fly_delete_volume", "args": {"volume_id": VOL_DATA_OLD}},
    }
    second = await rig.answer(edit)
    asked = second["__interrupt__"][0].value
    shown = str(asked)
    assert "3 GB" in shown  # the edited volume as shown in the second question
    fake.state.apps["web"].volumes[VOL_DATA_OLD].size_gb = 500  # it grows meanwhile
    await rig.answer({"type": "approve"})
    assert_only_approved(fake, [])
    (record,) = [r for r in rig.calls() if r.tool == "fly_delete_volume"]
    assert record.decision == "refused"


async def test_an_edit_approved_as_shown_runs_once(mode: str, run_async: bool) -> None:
    from fly_tools.testing.world import VOL_DATA

    fake = FakeFly.demo()
    rig = Rig(fake, [call("fly_delete_volume", volume_id=VOL_DATA)], mode=mode, run_async=run_async)
    await rig.start()
    edit = {
        "type": "edit",
        "edited_action": {"name": "fly_delete_volume", "args": {"volume_id": VOL_DATA_OLD}},
    }
    await rig.answer(edit)
    await rig.answer({"type": "approve"})
    assert_only_approved(fake, [DELETE_OLD])


def test_a_receipt_is_claimed_only_by_the_door_it_was_issued_for() -> None:
    from fly_tools import FlyToolkit, MiddlewareApproval
    from fly_tools.guards.context import CallContext
    from fly_tools.tools.facade import CALL_TOOL

    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=MiddlewareApproval(),
    )
    endpoint = toolkit.catalogue["fly_delete_volume"]
    args = endpoint.args_model.model_validate({"app_name": "web", "volume_id": VOL_DATA_OLD})
    # a decision about the tool itself, left unclaimed (another middleware stopped it)
    ctx = CallContext(tool_call_id="call-1", thread_id="t1", front_door="langchain")
    toolkit._runtime.receipts.issue(
        endpoint, args, decided_by="alice", verdict="approved", context=ctx
    )
    facade = next(t for t in toolkit.facade_tools() if t.name == CALL_TOOL)
    result = facade.invoke(
        {
            "type": "tool_call",
            "name": CALL_TOOL,
            "id": "call-1",
            "args": {"operation": "fly_delete_volume", "arguments": {"volume_id": VOL_DATA_OLD}},
        },
        {"configurable": {"thread_id": "t1"}},
    )
    assert result.status == "error"
    assert_only_approved(fake, [])
    assert toolkit._runtime.receipts.claim(ctx) is None  # and it is gone


async def test_an_unclaimed_receipt_is_dropped_when_the_call_ends(run_async: bool) -> None:
    from langchain.agents.middleware import AgentMiddleware
    from langchain_core.messages import ToolMessage

    class Block(AgentMiddleware):
        """Another middleware that stops every tool call after the approval."""

        def wrap_tool_call(self, request: Any, handler: Any) -> Any:
            call = request.tool_call
            return ToolMessage("blocked", tool_call_id=call["id"], name=call["name"])

        async def awrap_tool_call(self, request: Any, handler: Any) -> Any:
            return self.wrap_tool_call(request, handler)

    rig = Rig(FakeFly.demo(), SCRIPT, mode="batched", run_async=run_async, extra=[Block()])
    await rig.start()
    await rig.answer({"type": "approve"})
    assert_only_approved(rig.fake, [])
    # the approval's receipt was issued, the call was stopped: nothing is left to spend
    assert rig.toolkit._runtime.receipts._waiting == {}
    (record,) = [r for r in rig.calls() if r.tool == "fly_delete_volume"] or [None]
    assert record is None  # the tool never ran


# ------------------------------------------------------------ finding 8: the facade asks


def _facade_agent(fake: FakeFly, mode: str, saver: InMemorySaver) -> tuple[Any, Any]:
    from langchain.agents import create_agent

    from fly_tools import AuditLog, FlyToolkit, MemorySink, MiddlewareApproval
    from fly_tools.agents import approval_middleware
    from fly_tools.testing.scripted import ScriptedChatModel
    from fly_tools.tools.facade import CALL_TOOL

    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=MiddlewareApproval(reviewer="alice"),
        audit=AuditLog(sink),
    )
    step = call(CALL_TOOL, operation="fly_delete_volume", arguments={"volume_id": VOL_DATA_OLD})
    agent = create_agent(
        ScriptedChatModel(script=[step]),
        tools=toolkit.facade_tools(),
        middleware=approval_middleware(toolkit, interrupt_mode=mode),
        checkpointer=saver,
    )
    return agent, sink


async def test_the_facade_asks_and_a_replayed_resume_sends_once(mode: str, run_async: bool) -> None:
    from langchain_core.messages import HumanMessage

    fake, saver = FakeFly.demo(), InMemorySaver()
    config = {"configurable": {"thread_id": "f"}}
    agent, _ = _facade_agent(fake, mode, saver)
    start = {"messages": [HumanMessage("clean up")]}
    paused = await agent.ainvoke(start, config) if run_async else agent.invoke(start, config)
    paused_at = agent.get_state(config).config
    for _ in range(2):  # a worker resumes; a second one replays the same checkpoint
        again, _ = _facade_agent(fake, mode, saver)
        rig = Rig.__new__(Rig)
        rig.agent, rig.mode, rig.run_async = again, mode, run_async
        await resume_at(rig, paused, paused_at)
    assert_only_approved(fake, [DELETE_OLD])


async def test_a_facade_call_cannot_be_edited(run_async: bool) -> None:
    from langchain_core.messages import HumanMessage

    fake, saver = FakeFly.demo(), InMemorySaver()
    config = {"configurable": {"thread_id": "f"}}
    agent, sink = _facade_agent(fake, "batched", saver)
    start = {"messages": [HumanMessage("clean up")]}
    await agent.ainvoke(start, config) if run_async else agent.invoke(start, config)
    edit = {
        "type": "edit",
        "edited_action": {"name": "fly_delete_volume", "args": {"volume_id": VOL_DATA_OLD}},
    }
    resume: Command[Any] = Command(resume={"decisions": [edit]})
    await agent.ainvoke(resume, config) if run_async else agent.invoke(resume, config)
    assert_only_approved(fake, [])
    assert [r.decision for r in sink.records] == ["rejected"]
