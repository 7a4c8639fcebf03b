"""Red team: one approval, resumed twice, runs once (the question is spent in the ledger)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import call
from fly_tools.testing.world import VOL_DATA_OLD
from tests.redteam.support import assert_only_approved
from tests.redteam.test_middleware_door import DELETE_OLD, Rig

SCRIPT = [call("fly_delete_volume", volume_id=VOL_DATA_OLD)]


@pytest.fixture(params=["batched", "per_call"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def run_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def resume_at(rig: Rig, paused: dict[str, Any], config: dict[str, Any]) -> Any:
    """Resume ``paused`` (the interrupted result) with an approval, at checkpoint ``config``."""
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
