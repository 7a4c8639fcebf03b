"""Quickstart: a Fly toolkit for one app, a direct tool call, and one agent run.

Everything runs offline against the embedded fake Fly API (its demo world: org acme,
apps web and worker). The agent's model is a scripted model, a fixed plan that reads
the tool results, so no language model or API key is needed.

    python examples/quickstart.py

Needs: pip install 'fly-tools[agents]'
(from a clone, `make examples` installs what every example needs).
"""

from __future__ import annotations

from collections import Counter

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage

from fly_tools import AuditLog, FlyToolkit, MemorySink, format_trail
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call, say

fake = FakeFly.demo()  # in-process: no sockets, no network
memory = MemorySink()
toolkit = FlyToolkit(
    client=fake.client(scope="deploy"),  # a deploy token for app web
    scope="deploy",
    app="web",  # every tool is pinned to web; app_name leaves the schemas
    agent_id="quickstart",
    audit=AuditLog(memory),
)
tools = {tool.name: tool for tool in toolkit.get_tools()}
print(f"{len(tools)} tools for app web: {', '.join(list(tools)[:4])}, ...")

# Called directly, a tool returns concise content for the model and the full JSON as artifact.
message = tools["fly_list_machines"].invoke(
    ToolCall(name="fly_list_machines", args={}, id="call-1", type="tool_call")
)
print(f"\nfly_list_machines ->\n{message.content}")
print(f"(artifact: {len(message.artifact)} full machine records)")


def report(messages: list[BaseMessage]) -> AIMessage:
    """The scripted model's second turn: count machines by state from the listing it got."""
    listing = next(m for m in reversed(messages) if isinstance(m, ToolMessage)).artifact
    states = Counter(machine["state"] for machine in listing)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    return say(f"web has {len(listing)} machines: {summary}.")


# For a real model: langchain.chat_models.init_chat_model("provider:model").
model = ScriptedChatModel(script=[call("fly_list_machines"), report])
agent = create_agent(model, tools=list(tools.values()))
result = agent.invoke({"messages": [HumanMessage("How many machines does web have, by state?")]})
print("\nAgent (scripted model):", result["messages"][-1].content)

print("\nAudit trail:")
print(format_trail(memory.records))
