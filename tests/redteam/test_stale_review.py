"""Red team: an approval covers the call as the reviewer was shown it, not as it is later.

A paused review can wait minutes or a restart, and a person answering a hook can take
as long. LangGraph runs the reviewing node again
on resume, so the toolkit reads Fly's state again: if the call no longer reads as it
was shown (the volume grew, the machine changed, the target is gone), the approval does
not stand and nothing is sent. The description is recorded in the checkpoint before the
pause (``FlyReviewSnapshot``), so this holds across restarts; without that record, or
with the two middleware swapped, no answer can approve a call. A confirmation hook's
approval is checked the same way, by reading the target again once it is given. Sync and
async, both pause modes; the oracle is the fake's request log.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langgraph.checkpoint.memory import InMemorySaver

from fly_tools import ActionRequest, Approve, AuditLog, Decision, FlyToolkit, MemorySink, Reject
from fly_tools.agents import FlyApprovalMiddleware, approval_middleware
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call, calls
from fly_tools.testing.world import VOL_DATA_OLD, WEB_3
from tests.redteam.support import assert_only_approved, wire
from tests.redteam.test_middleware_door import DELETE_OLD, Rig, mode, run_async

__all__ = ["mode", "run_async"]  # the fixtures, shared with the middleware door

DELETE = [call("fly_delete_volume", volume_id=VOL_DATA_OLD)]


def _grow(fake: FakeFly) -> None:
    fake.state.apps["web"].volumes[VOL_DATA_OLD].size_gb = 500


def _delete_records(rig: Rig) -> list[tuple[str, str | None, str]]:
    return [
        (r.decision, r.decided_by, r.outcome) for r in rig.calls() if r.tool == "fly_delete_volume"
    ]


def _told(result: dict[str, Any]) -> str:
    return "\n".join(str(m.content) for m in result["messages"] if m.type == "tool")


async def test_a_target_changed_during_review_is_not_sent(mode: str, run_async: bool) -> None:
    rig = Rig(FakeFly.demo(), DELETE, mode=mode, run_async=run_async)
    await rig.start()
    _grow(rig.fake)
    result = await rig.answer({"type": "approve"})
    assert_only_approved(rig.fake, [])
    assert _delete_records(rig) == [("refused", "fly-tools", "not_executed")]
    told = _told(result)
    assert "changed while it was under review" in told
    assert "3 GB" in told  # what the reviewer was shown
    assert "500 GB" in told  # and what it reads now
    assert "Nothing was sent to Fly" in told


async def test_an_unchanged_target_is_sent_once_with_two_reads(mode: str, run_async: bool) -> None:
    rig = Rig(FakeFly.demo(), DELETE, mode=mode, run_async=run_async)
    await rig.start()
    await rig.answer({"type": "approve"})
    assert_only_approved(rig.fake, [DELETE_OLD])
    reads = [r for r in rig.fake.requests if r.method == "GET" and VOL_DATA_OLD in r.path]
    assert len(reads) == 2  # one to describe it before the pause, one to check it at resume


async def test_a_rejection_of_a_changed_target_stays_a_rejection(
    mode: str, run_async: bool
) -> None:
    rig = Rig(FakeFly.demo(), DELETE, mode=mode, run_async=run_async)
    await rig.start()
    _grow(rig.fake)
    await rig.answer({"type": "reject", "message": "keep it"})
    assert_only_approved(rig.fake, [])
    assert _delete_records(rig) == [("rejected", "alice", "not_executed")]


async def test_a_target_gone_during_review_is_refused_not_crashed(
    mode: str, run_async: bool
) -> None:
    # Two gated calls; the first target disappears while paused, so a fresh read now
    # refuses it. The answers still line up with the calls asked about.
    turn = calls(
        ("fly_delete_volume", {"volume_id": VOL_DATA_OLD}),
        ("fly_delete_machine", {"machine_id": WEB_3}),
    )
    rig = Rig(FakeFly.demo(), [turn], mode=mode, run_async=run_async)
    await rig.start()
    del rig.fake.state.apps["web"].volumes[VOL_DATA_OLD]
    await rig.answer({"type": "approve"}, {"type": "approve"})
    while rig.mode == "per_call" and rig.last.get("__interrupt__"):
        await rig.answer({"type": "approve"})
    assert_only_approved(rig.fake, [wire("fly_delete_machine", {"machine_id": WEB_3})])
    assert ("refused", "fly-tools", "not_executed") in _delete_records(rig)


async def test_after_a_restart_a_changed_target_is_not_sent(mode: str, run_async: bool) -> None:
    saver = InMemorySaver()
    fake = FakeFly.demo()
    before = Rig(fake, DELETE, mode=mode, run_async=run_async, saver=saver)
    await before.start()
    _grow(fake)
    after = Rig(fake, DELETE, mode=mode, run_async=run_async, saver=saver)  # a new process
    after.last = before.last
    await after.answer({"type": "approve"})
    assert_only_approved(fake, [])
    assert _delete_records(after) == [("refused", "fly-tools", "not_executed")]


async def test_after_a_restart_an_unchanged_target_is_sent_once(mode: str, run_async: bool) -> None:
    saver = InMemorySaver()
    fake = FakeFly.demo()
    before = Rig(fake, DELETE, mode=mode, run_async=run_async, saver=saver)
    await before.start()
    after = Rig(fake, DELETE, mode=mode, run_async=run_async, saver=saver)
    after.last = before.last
    await after.answer({"type": "approve"})
    assert_only_approved(fake, [DELETE_OLD])


async def test_without_the_snapshot_no_answer_approves(mode: str, run_async: bool) -> None:
    rig = Rig(FakeFly.demo(), DELETE, mode=mode, run_async=run_async)
    approver = FlyApprovalMiddleware(rig.toolkit, interrupt_mode=mode)
    rig.agent = _agent(rig, [approver])
    result = await rig.start()
    assert not result.get("__interrupt__")  # never asked: nothing recorded could be approved
    assert_only_approved(rig.fake, [])
    assert _delete_records(rig) == [("refused", "fly-tools", "not_executed")]
    assert "approval_middleware(toolkit)" in _told(result)


async def test_the_two_middleware_swapped_fail_closed(mode: str, run_async: bool) -> None:
    # Swapped, the batched review runs before the description is recorded: refused,
    # never asked. Per call, the review runs in the tools step, after the record either
    # way, so the approved call is sent as approved.
    rig = Rig(FakeFly.demo(), DELETE, mode=mode, run_async=run_async)
    approver, snapshot = approval_middleware(rig.toolkit, interrupt_mode=mode)
    rig.agent = _agent(rig, [snapshot, approver])
    result = await rig.start()
    if mode == "batched":
        assert not result.get("__interrupt__")
        assert_only_approved(rig.fake, [])
        assert _delete_records(rig) == [("refused", "fly-tools", "not_executed")]
    else:
        await rig.answer({"type": "approve"})
        assert_only_approved(rig.fake, [DELETE_OLD])


def _agent(rig: Rig, middleware: list[Any]) -> Any:
    return create_agent(
        ScriptedChatModel(script=DELETE),
        tools=rig.toolkit.get_tools(),
        middleware=middleware,
        checkpointer=rig.saver,
    )


# ---------------------------------------------------------------- confirmation hooks


class _Deliberating:
    """A hook whose person takes a while: meanwhile the target changes (or not)."""

    def __init__(self, fake: FakeFly, *, change: bool, answer: Decision | None = None) -> None:
        self.fake, self.change, self.answer = fake, change, answer
        self.asked: list[str] = []

    def __call__(self, request: ActionRequest) -> Decision:
        self.asked.append(request.description)
        if self.change:
            _grow(self.fake)
        return self.answer or Approve(by="alice")


def _hooked(fake: FakeFly, hook: Any) -> tuple[Any, MemorySink]:
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy"),
        scope="deploy",
        app="web",
        confirm=hook,
        audit=AuditLog(sink),
    )
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_delete_volume")
    return tool, sink


def _delete_call() -> dict[str, Any]:
    args = {"volume_id": VOL_DATA_OLD}
    return {"type": "tool_call", "id": "c1", "name": "fly_delete_volume", "args": args}


@pytest.mark.parametrize("run_async", [False, True], ids=["invoke", "ainvoke"])
async def test_a_hook_approval_of_a_changed_target_is_not_sent(run_async: bool) -> None:
    fake = FakeFly.demo()
    hook = _Deliberating(fake, change=True)
    tool, sink = _hooked(fake, hook)
    message = await tool.ainvoke(_delete_call()) if run_async else tool.invoke(_delete_call())
    assert_only_approved(fake, [])
    assert message.status == "error"
    assert "changed while it was under review" in message.content
    assert "Call the tool again" in message.content
    assert [(r.decision, r.outcome) for r in sink.records] == [("refused", "not_executed")]
    assert "3 GB" in hook.asked[0]


@pytest.mark.parametrize("run_async", [False, True], ids=["invoke", "ainvoke"])
async def test_a_hook_approval_of_an_unchanged_target_is_sent_once(run_async: bool) -> None:
    fake = FakeFly.demo()
    tool, sink = _hooked(fake, _Deliberating(fake, change=False))
    message = await tool.ainvoke(_delete_call()) if run_async else tool.invoke(_delete_call())
    assert message.status != "error", message.content
    assert_only_approved(fake, [DELETE_OLD])
    record = sink.records[-1]
    assert record.reads == ("fly_get_volume", "fly_get_volume")  # described, then checked


def test_a_hook_rejection_does_not_read_again() -> None:
    fake = FakeFly.demo()
    hook = _Deliberating(fake, change=True, answer=Reject("no", by="alice"))
    tool, sink = _hooked(fake, hook)
    tool.invoke(_delete_call())
    assert_only_approved(fake, [])
    assert sink.records[-1].reads == ("fly_get_volume",)
