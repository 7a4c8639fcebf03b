"""Human approval with LangChain's HumanInTheLoopMiddleware: approve one delete, reject another.

The toolkit declares that a person approves in the agent's middleware
(``confirm=MiddlewareApproval()``); ``approval_middleware`` is a
``HumanInTheLoopMiddleware`` in front of its gated tools (the risk tiers decide which,
each pending call described in plain English) that turns each approval into a receipt
bound to the exact call. The toolkit sends a gated call only with its receipt, and
records each review in its audit trail. The scripted model (a
fixed plan that reads the tool results) asks, in one turn, to delete the volume no
machine uses and the stopped machine. The run pauses; a reviewer approves the first and
rejects the second; the run resumes with ``Command(resume=...)``.

    python examples/approval_with_middleware.py

Needs: pip install 'fly-tools[agents]'
(from a clone, `make examples` installs what every example needs).
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from fly_tools import (
    AuditLog,
    FlyToolkit,
    MemorySink,
    MiddlewareApproval,
    format_trail,
    interrupt_on,
)
from fly_tools.agents import approval_middleware
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call, calls

fake = FakeFly.demo()
memory = MemorySink()
toolkit = FlyToolkit(
    client=fake.client(scope="deploy"),
    scope="deploy",
    app="web",
    confirm=MiddlewareApproval(),  # only approval_middleware(toolkit) can approve
    agent_id="ops-bot",
    audit=AuditLog(memory),
)
tools = toolkit.get_tools()
gated = interrupt_on(tools)  # DESTRUCTIVE tools by default
print(f"Tools that pause for a human: {', '.join(gated)}")


def listing(messages: Sequence[BaseMessage], tool: str) -> list[dict[str, str]]:
    return next(
        m.artifact for m in reversed(messages) if isinstance(m, ToolMessage) and m.name == tool
    )


def clean_up(messages: Sequence[BaseMessage]) -> AIMessage:
    loose = next(
        v for v in listing(messages, "fly_list_volumes") if not v.get("attached_machine_id")
    )
    stopped = next(m for m in listing(messages, "fly_list_machines") if m["state"] == "stopped")
    return calls(
        ("fly_delete_volume", {"volume_id": loose["id"]}),
        ("fly_delete_machine", {"machine_id": stopped["id"]}),
    )


model = ScriptedChatModel(script=[call("fly_list_volumes"), call("fly_list_machines"), clean_up])
agent = create_agent(
    model,
    tools=tools,
    middleware=approval_middleware(toolkit, reviewer="on-call reviewer"),
    checkpointer=InMemorySaver(),  # a paused run is kept here until it resumes
)
config: RunnableConfig = {"configurable": {"thread_id": "clean-up-web"}}
paused = agent.invoke({"messages": [HumanMessage("Clean up unused things in web.")]}, config)

(pending,) = paused["__interrupt__"]
decisions = []
for request in pending.value["action_requests"]:
    print(f"\nPaused: {request['name']}\n  {request['description']}")
    if request["name"] == "fly_delete_volume":
        decisions.append({"type": "approve"})
        print("  -> approved")
    else:
        decisions.append({"type": "reject", "message": "keep web-3, it is a spare"})
        print("  -> rejected: keep web-3, it is a spare")

print(f"\nRequests before resuming: {[f'{r.method} {r.path}' for r in fake.requests]}")
result = agent.invoke(Command(resume={"decisions": decisions}), config)
for message in result["messages"]:
    if isinstance(message, ToolMessage) and (message.name or "").startswith("fly_delete"):
        print(f"\n{message.name}: {message.content}")

print("\nAudit trail (the rejected call is recorded too; it never reached Fly):")
print(format_trail(memory.records))
deletes = [f"{r.method} {r.path}" for r in fake.requests if r.method == "DELETE"]
print(f"\nDELETE requests that reached the fake Fly API: {deletes}")
