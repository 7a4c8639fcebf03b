"""A paused approval that outlives the agent: SQLite checkpoints, a restart, then the answer.

The agent pauses before deleting a volume and its process "exits": the toolkit, the
middleware and the checkpointer are dropped. Later a new toolkit, a new middleware and a
new connection to the same checkpoint file resume the thread with the reviewer's answer.
The approval becomes a receipt in the process that resumes, so the delete reaches Fly
exactly once. Both processes share an approval ledger file: the question asked before the
pause is found there at resume and spent, so resuming the same checkpoint again sends
nothing. The checkpoints hold plain JSON only, so this also runs with
``LANGGRAPH_STRICT_MSGPACK=true``. (The fake Fly API stands in for Fly, which outlives
agents: it is kept across the restart.)

    python examples/durable_approval.py

Needs: pip install 'fly-tools[agents,approvals]' langgraph-checkpoint-sqlite
(from a clone, `make examples` installs what every example needs).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from fly_tools import FlyToolkit, MemorySink, MiddlewareApproval
from fly_tools.agents import approval_middleware
from fly_tools.approvals import open_store
from fly_tools.guards import AuditLog
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call
from fly_tools.testing.world import VOL_DATA_OLD

fly = FakeFly.demo()  # stands in for Fly: it outlives the agent processes
checkpoints = Path(tempfile.mkdtemp()) / "checkpoints.sqlite"
ledger_file = checkpoints.with_name("ledger.db")
config = {"configurable": {"thread_id": "clean-up-web"}}


def agent_process(sink: MemorySink) -> tuple[Any, sqlite3.Connection]:
    """What one agent process builds at start: toolkit, middleware, checkpointer."""
    toolkit = FlyToolkit(
        client=fly.client(scope="deploy"),
        scope="deploy",
        app="web",
        confirm=MiddlewareApproval(reviewer="on-call"),
        audit=AuditLog(sink),
    )
    connection = sqlite3.connect(checkpoints, check_same_thread=False)
    agent = create_agent(
        ScriptedChatModel(script=[call("fly_delete_volume", volume_id=VOL_DATA_OLD)]),
        tools=toolkit.get_tools(),
        middleware=approval_middleware(toolkit, ledger=open_store(ledger_file)),
        checkpointer=SqliteSaver(connection),
    )
    return agent, connection


first_sink = MemorySink()
agent, connection = agent_process(first_sink)
paused = agent.invoke({"messages": [("user", "Remove the unused volume in web.")]}, config)
(pending,) = paused["__interrupt__"]
print(f"Paused: {pending.value['action_requests'][0]['description']}")
connection.close()
del agent  # the first process is gone; only the checkpoint file remains
print(f"Process 1 exited; checkpoint kept in {checkpoints.name}")

second_sink = MemorySink()
agent, connection = agent_process(second_sink)
agent.invoke(Command(resume={"decisions": [{"type": "approve", "by": "alice"}]}), config)
connection.close()

deletes = [f"{r.method} {r.path}" for r in fly.requests if r.method == "DELETE"]
print(f"Process 2 resumed with alice's approval; DELETE requests that reached Fly: {deletes}")
for record in second_sink.records:
    print(f"Audit: {record.sentence}")
