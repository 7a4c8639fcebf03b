"""A LangChain agent with a checkpointer: the call waits in the store across a restart."""

from __future__ import annotations

import json
import re

from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from fly_tools.approvals import ApprovalStore
from fly_tools.testing.scripted import ScriptedChatModel, call, say
from tests.approvals.conftest import DELETE_OLD, agent_on, approve

SCRIPT = [
    call("fly_delete_volume", **DELETE_OLD),
    say("The delete waits for a person's approval."),
    call("fly_delete_volume", **DELETE_OLD),
]


def test_an_agent_pauses_on_pending_and_resumes_after_a_restart(store: ApprovalStore) -> None:
    checkpointer = InMemorySaver()
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    before = agent_on(store)
    graph = create_agent(
        ScriptedChatModel(script=SCRIPT),
        tools=before.toolkit.get_tools(),
        checkpointer=checkpointer,
    )
    graph.invoke({"messages": [HumanMessage("Delete the unused volume.")]}, config)
    (asked,) = store.entries()
    assert before.deletes() == []
    approve(store, asked.id, "alice")
    after = agent_on(store, fake=before.fake)  # the agent process restarted; same Fly
    graph = create_agent(
        ScriptedChatModel(script=SCRIPT), tools=after.toolkit.get_tools(), checkpointer=checkpointer
    )
    state = graph.invoke({"messages": [HumanMessage("Approved, go on.")]}, config)
    assert after.deletes() == [f"/v1/apps/web/volumes/{DELETE_OLD['volume_id']}"]
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert [m.status for m in results] == ["error", "success"]
    assert re.search(rf"pending approval {asked.id}", str(results[0].content))
    # what the checkpoint keeps of the calls is plain JSON (LANGGRAPH_STRICT_MSGPACK-safe)
    for message in results:
        assert json.loads(json.dumps(message.artifact)) == message.artifact
