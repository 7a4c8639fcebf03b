"""A read-only agent: it can look at everything in app web and change nothing.

The toolkit holds only READ-tier tools, bound to app web. The scripted model (a fixed
plan that reads the tool results) writes a health report, then tries to start the
stopped machine: the tool is simply not there, and nothing but reads reaches Fly.

    python examples/read_only_agent.py

Needs: pip install 'fly-tools[agents]'
(from a clone, `make examples` installs what every example needs).
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

from fly_tools import AuditLog, FlyToolkit, MemorySink, format_trail
from fly_tools.testing import FakeFly
from fly_tools.testing.scripted import ScriptedChatModel, call, say

fake = FakeFly.demo()
memory = MemorySink()
toolkit = FlyToolkit.read_only(
    fake.client(scope="readonly"), app="web", agent_id="monitor", audit=AuditLog(memory)
)
tools = toolkit.get_tools()
print(f"{len(tools)} read-only tools: {', '.join(toolkit.tool_names)}")
assert all(tool.metadata and tool.metadata["readOnlyHint"] for tool in tools)

# What the model sees of one tool: app_name is gone, the toolkit pins it to web.
schema = next(t for t in tools if t.name == "fly_get_machine").tool_call_schema
assert isinstance(schema, type)
assert issubclass(schema, BaseModel)
print(f"fly_get_machine takes: {', '.join(schema.model_json_schema()['properties'])}")


def result_of(messages: Sequence[BaseMessage], tool: str) -> ToolMessage:
    return next(m for m in reversed(messages) if isinstance(m, ToolMessage) and m.name == tool)


def stopped_machine(messages: Sequence[BaseMessage]) -> dict[str, str]:
    listing = result_of(messages, "fly_list_machines").artifact
    return next(m for m in listing if m["state"] == "stopped")


def why_stopped(messages: Sequence[BaseMessage]) -> AIMessage:
    return call("fly_list_machine_events", machine_id=stopped_machine(messages)["id"], limit=3)


def try_to_start(messages: Sequence[BaseMessage]) -> AIMessage:
    return call("fly_start_machine", machine_id=stopped_machine(messages)["id"])


def report(messages: Sequence[BaseMessage]) -> AIMessage:
    machines = result_of(messages, "fly_list_machines").artifact
    volumes = result_of(messages, "fly_list_volumes").artifact
    stopped = stopped_machine(messages)
    last_event = result_of(messages, "fly_list_machine_events").artifact[0]
    loose = [v["name"] for v in volumes if not v.get("attached_machine_id")]
    started = sum(m["state"] == "started" for m in machines)
    refused = result_of(messages, "fly_start_machine").text
    return say(
        f"web: {started} of {len(machines)} machines started; {stopped['name']} is stopped "
        f"(last event: {last_event['type']} by {last_event['source']}). "
        f"Volumes not attached: {', '.join(loose) or 'none'}. "
        f"I could not start {stopped['name']}: {refused.split(',')[0]}."
    )


model = ScriptedChatModel(
    script=[
        call("fly_list_machines"),
        why_stopped,
        call("fly_list_volumes"),
        try_to_start,
        report,
    ]
)
agent = create_agent(model, tools=tools)
result = agent.invoke({"messages": [HumanMessage("How is web doing? Fix what you can.")]})
print("\nReport (scripted model):", result["messages"][-1].content)

print("\nAudit trail:")
print(format_trail(memory.records))
methods = sorted({request.method for request in fake.requests})
print(f"\nRequests that reached the fake Fly API: {len(fake.requests)}, methods: {methods}")
