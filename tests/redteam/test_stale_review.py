"""Red team: an approval covers the call as the reviewer was shown it, not as it is later.

A paused review can wait minutes or a restart. LangGraph runs the reviewing node again
on resume, so the toolkit reads Fly's state again: if the call no longer reads as it
was shown (the volume grew, the machine changed, the target is gone), the approval does
not stand and nothing is sent. The description is recorded in the checkpoint before the
pause (``FlyReviewSnapshot``), so this holds across restarts; without that record, or
with the two middleware swapped, no answer can approve a call. Sync and async, both
pause modes; the oracle is the fake's request log.
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langgraph.checkpoint.memory import InMemorySaver

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
