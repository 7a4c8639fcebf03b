"""1,000 tool calls with ~20% injected faults: reads recover, creates never repeat, all audited."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import ToolMessage

from fly_tools import MemorySink
from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.world import MACHINES, VOL_DATA
from tests.reliability.support import (
    SECRET_VALUE,
    LeakScan,
    ToolkitFactory,
    call_tool,
    tools_by_name,
)

CALLS = 1000
FAULT_RATE = 0.2
SEED = 20260507

# (fault, whether a safe retry gets past it): 500 is not retried (it may be a real bug),
# a slow answer past the 30 s read timeout may have changed something.
FAULTS: list[tuple[Fault, bool]] = [
    (Fault.status(429, retry_after=1), True),
    (Fault.status(429), True),
    (Fault.status(500), False),
    (Fault.status(502), True),
    (Fault.status(503), True),
    (Fault.status(504), True),
    (Fault.reset(before=True), True),
    (Fault.reset(before=False), True),
    (Fault.slow(2.0), True),
    (Fault.slow(45.0), True),
]
READS: list[tuple[str, dict[str, Any]]] = [
    ("fly_list_apps", {"org_slug": "acme"}),
    ("fly_get_app", {"app_name": "worker"}),
    ("fly_list_machines", {"app_name": "worker"}),
    ("fly_get_machine", {"app_name": "worker", "machine_id": MACHINES["worker-1"]}),
    ("fly_list_machine_events", {"app_name": "worker", "machine_id": MACHINES["worker-1"]}),
    ("fly_list_volumes", {"app_name": "web"}),
    ("fly_get_volume", {"app_name": "web", "volume_id": VOL_DATA}),
    ("fly_list_secrets", {"app_name": "web"}),
]


@dataclass
class Call:
    """One planned call and what came of it."""

    tool: str
    args: dict[str, Any]
    kind: str  # "read", "create" or "write"
    fault: Fault | None
    retry_recovers: bool = True
    message: ToolMessage | None = None


def plan(rng: random.Random) -> list[Call]:
    """The calls, in order: 60% reads, 25% creates with unique names, 15% secret writes."""
    calls = []
    for n in range(CALLS):
        fault, recovers = rng.choice(FAULTS) if rng.random() < FAULT_RATE else (None, True)
        roll = rng.random()
        if roll < 0.60:
            tool, args = rng.choice(READS)
            calls.append(Call(tool, dict(args), "read", fault, recovers))
        elif roll < 0.85:
            tool, args = _create(n, rng)
            calls.append(Call(tool, args, "create", fault))
        else:
            args = {"app_name": "web", "secret_name": f"KEY_{n}", "value": SECRET_VALUE}
            calls.append(Call("fly_set_secret", args, "write", fault))
    return calls


def _create(n: int, rng: random.Random) -> tuple[str, dict[str, Any]]:
    machine = {
        "app_name": "worker",
        "name": f"fault-{n}",
        "image": "nginx:1.27",
        "skip_launch": True,
    }
    creates: list[tuple[str, dict[str, Any]]] = [
        ("fly_create_machine", machine),
        ("fly_create_volume", {"app_name": "worker", "name": f"fault_{n}", "region": "iad"}),
        ("fly_create_app", {"app_name": f"fault-app-{n}", "org_slug": "acme"}),
    ]
    return rng.choice(creates)


def run(fake: FakeFly, toolkit_for: ToolkitFactory) -> tuple[list[Call], MemorySink]:
    """Make every planned call, each fault injected just before its call."""
    toolkit = toolkit_for(fake, "org")
    tools = tools_by_name(toolkit)
    calls = plan(random.Random(SEED))
    for n, call in enumerate(calls):
        if call.fault is not None:
            fake.inject(call.fault, count=1, match=call.tool)
        call.message = call_tool(tools[call.tool], call.args, call_id=f"call-{n}")
    sink = toolkit.audit_log.sinks[0]
    assert isinstance(sink, MemorySink)
    return calls, sink


def test_a_thousand_calls_under_faults(
    fly: FakeFly, toolkit_for: ToolkitFactory, leak_scan: LeakScan
) -> None:
    calls, audit = run(fly, toolkit_for)
    messages = [c.message for c in calls if c.message is not None]
    for message in messages:
        leak_scan.add("tool content", message.content)
        leak_scan.add("tool artifact", message.artifact)

    assert len(messages) == CALLS
    assert 150 <= sum(c.fault is not None for c in calls) <= 250
    assert all(m.status in ("success", "error") for m in messages)
    for call in calls:
        assert call.message is not None
        if call.message.status == "error":
            assert_clear_error(call)
    reads = [c for c in calls if c.kind == "read"]
    assert all(ok(c) for c in reads if c.retry_recovers)

    unsure = [c for c in calls if c.message and "may have happened" in str(c.message.content)]
    assert unsure, "the seed should produce creates whose outcome is unknown"
    assert_no_duplicate_creates(fly, calls)
    assert [r.tool for r in audit.records] == [c.tool for c in calls]
    pairs = zip(audit.records, messages, strict=True)
    assert {(record.outcome, message.status) for record, message in pairs} <= {
        ("ok", "success"),
        ("error", "error"),
    }
    written = {c.args["secret_name"] for c in calls if c.kind == "write" and ok(c)}
    assert written
    assert written <= fly.state.apps["web"].secrets.keys()


def ok(call: Call) -> bool:
    """Whether the tool reported success."""
    return call.message is not None and call.message.status == "success"


def assert_clear_error(call: Call) -> None:
    """An error names what happened and what to do, never a traceback."""
    assert call.message is not None
    text = str(call.message.content)
    assert "Traceback" not in text
    assert ("Fly answered" in text) or ("before Fly answered" in text), text
    if call.kind == "create" and call.fault is not None and call.fault.kind != "status":
        # The request may have reached Fly: the agent is told to check, not to repeat.
        assert "may have happened" in text, text


def assert_no_duplicate_creates(fake: FakeFly, calls: list[Call]) -> None:
    """Each create happened at most once, and exactly once when the tool said so."""
    state = fake.state
    found: Counter[str] = Counter()
    found.update(m.name for m in state.machines("worker", include_deleted=True))
    found.update(v.name for v in state.app("worker").volumes.values())
    found.update(list(state.apps))
    for call in calls:
        if call.kind != "create":
            continue
        name = call.args.get("name") or call.args["app_name"]
        assert found[name] <= 1, name
        if ok(call):
            assert found[name] == 1, name
