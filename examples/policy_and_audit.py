"""A per-agent policy from a TOML file, an approval rule, and an audit trail in a JSONL file.

``ops-bot-policy.toml`` (next to this file) grants ops-bot read access to machines and
volumes and full control of machine power, denying exec. Disruptive calls go to an
approval rule; every call, allowed or not, becomes one line in the audit file, which is
read back and printed in plain English.

    python examples/policy_and_audit.py [AUDIT_FILE]

Needs: pip install fly-tools
(from a clone, `make examples` installs what every example needs).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from fly_tools import (
    ENDPOINTS,
    ActionRequest,
    AgentPolicy,
    Approve,
    AuditLog,
    Decision,
    FlyToolkit,
    JsonlSink,
    Reject,
    format_trail,
    read_jsonl,
)
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1, WEB_2

policy = AgentPolicy.from_file(Path(__file__).with_name("ops-bot-policy.toml"))
audit_file = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()) / "audit.jsonl"


def on_call_rule(request: ActionRequest) -> Decision:
    """Approve disruptive calls, except on web-1, which holds the data volume."""
    print(f"  approval asked: {request.description}")
    if request.target.id == WEB_1:
        return Reject(reason="web-1 holds the data volume; page a human", by="on-call rule")
    return Approve(by="on-call rule")


fake = FakeFly.demo()
toolkit = FlyToolkit(
    client=fake.client(scope="deploy"),
    scope="deploy",
    app="web",
    policy=policy,  # intersected with the token's scope
    confirm=on_call_rule,
    confirm_at="disruptive",  # ask about stop/restart too, not only deletes
    audit=AuditLog(JsonlSink(audit_file)),
)
print(f"Policy for {policy.agent_id}: {len(toolkit.tool_names)} tools")
print(f"  {', '.join(toolkit.tool_names)}")
delete_volume = ENDPOINTS["fly_delete_volume"]
print(f"fly_delete_volume is absent: {policy.refusal(delete_volume)}")

tools = {tool.name: tool for tool in toolkit.get_tools()}
print("\nCalls:")
for name, args in [
    ("fly_list_machines", {}),
    ("fly_restart_machine", {"machine_id": WEB_2}),
    ("fly_stop_machine", {"machine_id": WEB_1}),
    ("fly_restart_machine", {"machine_id": "web-2"}),  # a name, not an id: refused
]:
    answer = tools[name].invoke(args)
    print(f"- {name}({args}) ->\n    {answer.splitlines()[0]}")

records = read_jsonl(audit_file)
print(f"\nAudit file {audit_file} ({len(records)} records), in plain English:")
print(format_trail(records))
print("\nOnly the rejected ones:")
print(format_trail(records, decision="rejected"))
print(f"\nThe same from the command line: fly-tools audit {audit_file} --decision rejected")
