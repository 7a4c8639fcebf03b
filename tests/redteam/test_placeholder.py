"""A redacted copy of a call cannot be sent: ``"[redacted]"`` is never stored as a secret.

Approval requests, traces and audit records show ``"[redacted]"`` where a secret value
was. A model (or a reviewer's edit) that copies such arguments back would otherwise
store the placeholder as the secret, the key, the certificate key or the stdin. Over
every tool with a secret field, through ``invoke``, ``ainvoke`` and the facade, the call
is refused before anything reaches Fly, and the refusal names the field.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from fly_tools import ENDPOINTS, GROUPS, AuditLog, FlyToolkit, MemorySink, approve_all
from fly_tools.guards import REDACTED, redact_args
from fly_tools.tools.facade import CALL_TOOL
from tests.redteam.support import changes
from tests.tools.world import EXAMPLES, prepared_world


def _veil(raw: Any, shown: Any) -> Any:
    """``raw`` with every value redaction hides replaced by the placeholder."""
    if isinstance(raw, str) and shown == REDACTED:
        return REDACTED
    if isinstance(raw, dict) and isinstance(shown, dict):
        return {k: _veil(v, shown.get(k)) for k, v in raw.items()}
    if isinstance(raw, list) and isinstance(shown, list):
        return [_veil(v, s) for v, s in zip(raw, shown, strict=False)]
    return raw


def _veiled_calls() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, example in EXAMPLES.items():
        veiled = _veil(example, redact_args(ENDPOINTS[name], example))
        if veiled != example:
            found.append((name, veiled))
    return found


EXTRA = [
    ("fly_exec_machine", {**EXAMPLES["fly_exec_machine"], "stdin": REDACTED}),
    (
        "fly_create_machine",
        {**EXAMPLES["fly_create_machine"], "env": {"API_TOKEN": REDACTED, "MODE": "prod"}},
    ),
    (
        "fly_update_machine",
        {
            **EXAMPLES["fly_update_machine"],
            "env": {"DATABASE_URL": f"postgres://u:{REDACTED}@db/x"},
        },
    ),
]
VEILED = _veiled_calls() + EXTRA


def test_the_secret_fields_are_covered() -> None:
    names = {name for name, _ in VEILED}
    assert {"fly_set_secret", "fly_upload_custom_certificate"} <= names
    assert len(names) >= 7, names


SECRET_FIELDS = ("value", "stdin", "env", "private_key", "key", "plaintext", "secret_key")


def _toolkit(tool: str) -> tuple[Any, FlyToolkit, MemorySink]:
    fake, _ = prepared_world(tool)
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=fake.client(), scope="org", groups=GROUPS, confirm=approve_all, audit=AuditLog(sink)
    )
    return fake, toolkit, sink


def _assert_refused(message: Any, fake: Any, sink: MemorySink, name: str, before: int) -> None:
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert "placeholder" in str(message.content)
    assert any(f"- {field}:" in str(message.content) for field in SECRET_FIELDS)
    assert "nothing was sent" in str(message.content)
    assert changes(fake) == []
    assert len(fake.requests) == before  # not even a read: refused at the argument check
    record = sink.records[-1]
    assert (record.tool, record.decision, record.outcome) == (name, "refused", "not_executed")


@pytest.mark.parametrize(("name", "args"), VEILED, ids=[n for n, _ in VEILED])
def test_invoke_refuses_the_placeholder(name: str, args: dict[str, Any]) -> None:
    fake, toolkit, sink = _toolkit(name)
    tool = next(t for t in toolkit.get_tools() if t.name == name)
    before = len(fake.requests)
    call = {"type": "tool_call", "id": "call-1", "name": name, "args": args}
    _assert_refused(tool.invoke(call), fake, sink, name, before)


@pytest.mark.parametrize(("name", "args"), VEILED, ids=[n for n, _ in VEILED])
async def test_ainvoke_refuses_the_placeholder(name: str, args: dict[str, Any]) -> None:
    fake, toolkit, sink = _toolkit(name)
    tool = next(t for t in toolkit.get_tools() if t.name == name)
    before = len(fake.requests)
    call = {"type": "tool_call", "id": "call-1", "name": name, "args": args}
    _assert_refused(await tool.ainvoke(call), fake, sink, name, before)


@pytest.mark.parametrize(("name", "args"), VEILED, ids=[n for n, _ in VEILED])
def test_the_facade_refuses_the_placeholder(name: str, args: dict[str, Any]) -> None:
    fake, toolkit, sink = _toolkit(name)
    call_tool = next(t for t in toolkit.facade_tools() if t.name == CALL_TOOL)
    before = len(fake.requests)
    call = {
        "type": "tool_call",
        "id": "call-1",
        "name": CALL_TOOL,
        "args": {"operation": name, "arguments": args},
    }
    _assert_refused(call_tool.invoke(call), fake, sink, name, before)


def test_a_secret_that_merely_mentions_brackets_is_still_sent() -> None:
    fake, toolkit, _ = _toolkit("fly_set_secret")
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_set_secret")
    args = {"app_name": "web", "secret_name": "API_KEY", "value": "[not-redacted]-value"}
    message = tool.invoke({"type": "tool_call", "id": "c", "name": "fly_set_secret", "args": args})
    assert message.status == "success", message.content
    assert [r.method for r in fake.requests if r.endpoint == "fly_set_secret"] == ["POST"]
