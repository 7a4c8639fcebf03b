"""Token and secret values never come out: tool content, artifacts, audit files, logs, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fly_tools import (
    ENDPOINTS,
    FlyError,
    FlyToolkit,
    JsonlSink,
    LoggingSink,
    MemorySink,
    approve_all,
    format_trail,
)
from fly_tools.guards import AuditLog
from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.world import MACHINES
from tests.reliability.strategies import sample_arguments
from tests.reliability.support import (
    SECRET_VALUE,
    LeakScan,
    call_tool,
    model_schema,
    tools_by_name,
)

URL_WITH_PASSWORD = f"postgres://app:{SECRET_VALUE}@db.internal:5432/app"


class Collected:
    """Everything one scenario produced, by where it came from.

    Artifacts hold Fly's raw answers, which the model does not see: a config the agent
    itself wrote (env values included) comes back in them. They are checked for tokens.
    """

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.artifacts: list[tuple[str, str]] = []

    def add(self, where: str, text: object) -> None:
        self.texts.append((where, text if isinstance(text, str) else repr(text)))

    def leaks(self, secrets: set[str], tokens: set[str]) -> list[str]:
        found = [where for where, text in self.texts for s in secrets if s in text]
        return found + [where for where, text in self.artifacts for t in tokens if t in text]


@pytest.fixture
def collected(leak_scan: LeakScan) -> Collected:
    return Collected()


def every_tool_once(fake: FakeFly, toolkit: FlyToolkit, seen: Collected) -> None:
    """Each tool with sample arguments on a fresh world, secrets wherever arguments allow."""
    for name, tool in tools_by_name(toolkit).items():
        fake.reset()
        args = sample_arguments(ENDPOINTS[name], model_schema(tool))
        if name == "fly_set_secret":
            args["value"] = SECRET_VALUE
        if name == "fly_create_machine":
            args["env"] = {"API_TOKEN": SECRET_VALUE, "DATABASE_URL": URL_WITH_PASSWORD}
        if name == "fly_exec_machine":
            args.update(command=["echo", "hello"], stdin=SECRET_VALUE)
        message = call_tool(tool, args)
        seen.add(f"{name} content", message.content)
        seen.artifacts.append((f"{name} artifact", repr(message.artifact)))


def failing_calls(fake: FakeFly, toolkit: FlyToolkit, seen: Collected) -> None:
    """Errors of every kind: refused, revoked token, server faults, a dropped connection."""
    tools = tools_by_name(toolkit)
    web_1 = {"app_name": "web", "machine_id": MACHINES["web-1"]}
    for fault in (Fault.status(500), Fault.status(401), Fault.reset(before=False)):
        fake.inject(fault, count=4, match="fly_set_secret")
        message = call_tool(
            tools["fly_set_secret"],
            {"app_name": "web", "secret_name": "LEAK_CHECK", "value": SECRET_VALUE},
        )
        fake.clear_faults()
        seen.add(f"set_secret under {fault.describe()}", message.content)
    message = call_tool(tools["fly_get_machine"], {**web_1, "machine_id": "nosuchmachine"})
    seen.add("not found", message.content)


def test_no_token_or_secret_leaves_the_toolkit(
    leak_scan: LeakScan,
    collected: Collected,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = leak_scan.watch(FakeFly.demo())
    client = fake.client("org", sleep=fake.clock.sleep, clock=fake.clock.now)
    memory, audit_file = MemorySink(), tmp_path / "audit.jsonl"
    audit = AuditLog(memory, JsonlSink(audit_file), LoggingSink(level=logging.WARNING))
    toolkit = FlyToolkit(client=client, scope="org", confirm=approve_all, audit=audit)

    with caplog.at_level(logging.DEBUG):
        every_tool_once(fake, toolkit, collected)
        failing_calls(fake, toolkit, collected)
        revoked = fake.client("org")
        fake.revoke_token(fake.tokens["org"])
        with pytest.raises(FlyError) as raised:
            revoked.call("fly_list_apps", {"org_slug": "acme"})

    collected.add("exception str", str(raised.value))
    collected.add("exception repr", repr(raised.value))
    collected.add("exception attributes", vars(raised.value))
    collected.add("audit file", audit_file.read_text())
    collected.add("audit trail", format_trail(memory.records))
    collected.add("log records", "\n".join(r.getMessage() for r in caplog.records))
    collected.add("reprs", [repr(client), repr(toolkit), repr(client.token), str(client.token)])
    for where, text in collected.texts:
        leak_scan.add(where, text)

    assert collected.leaks(leak_scan.secrets, set(fake.tokens.values())) == []
    assert len(memory.records) == len(ENDPOINTS) + 4
    assert SECRET_VALUE not in audit_file.read_text()
    assert "[redacted]" in audit_file.read_text()
