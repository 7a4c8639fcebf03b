"""Token and secret values never come out: tool content, artifacts, audit files, logs, errors."""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from fly_tools import (
    ENDPOINTS,
    GROUPS,
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
from tests.fake.tour_certificates import pem
from tests.reliability.samples import prepare, sample_arguments
from tests.reliability.support import (
    SECRET_VALUE,
    LeakScan,
    call_tool,
    model_schema,
    tools_by_name,
)

URL_WITH_PASSWORD = f"postgres://app:{SECRET_VALUE}@db.internal:5432/app"
KEY_MATERIAL = base64.b64encode(b"reliability-key-material-0c4f7e2").decode()
"""Key bytes given to fly_set_secret_key (an hs256 key takes any length)."""
LEAKY_KEY = pem("PRIVATE KEY", b"reliability-private-key-9d2b51")
_MINTED = re.compile(rb"\b(?:fm2_|fpt_)[A-Za-z0-9_=-]{16,}")
"""Tokens Fly mints on request (deploy tokens, KMS tokens)."""

SECRET_ARGS: dict[str, dict[str, Any]] = {
    "fly_set_secret": {"value": SECRET_VALUE},
    "fly_create_machine": {"env": {"API_TOKEN": SECRET_VALUE, "DATABASE_URL": URL_WITH_PASSWORD}},
    "fly_exec_machine": {"command": ["echo", "hello"], "stdin": SECRET_VALUE},
    "fly_update_secrets": {"values": {"API_KEY": SECRET_VALUE, "DATABASE_URL": URL_WITH_PASSWORD}},
    "fly_set_secret_key": {"type": "hs256", "value": KEY_MATERIAL},
    "fly_encrypt_with_secret_key": {"plaintext": SECRET_VALUE},
    "fly_upload_custom_certificate": {"private_key": LEAKY_KEY},
}
"""Secrets wherever a tool's arguments take one."""
SECRETS = {SECRET_VALUE, KEY_MATERIAL, LEAKY_KEY.split("\n")[1]}
"""What must never come back out of a tool, beyond the fake's tokens and secret values."""


class MintedTokens(httpx.BaseTransport):
    """Passes requests to the fake and keeps every token its answers mint."""

    def __init__(self, fake: FakeFly) -> None:
        self.inner = fake.transport()
        self.tokens: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.startswith("/v1/tokens/") or "deploy_token" in request.url.path:
            body = response.read()
            self.tokens.update(m.decode() for m in _MINTED.findall(body))
        return response


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
    """Each tool on a fresh world set up for it, secrets wherever arguments allow."""
    for name, tool in tools_by_name(toolkit).items():
        fake.reset()
        args = sample_arguments(ENDPOINTS[name], model_schema(tool))
        args = prepare(fake, name, args | SECRET_ARGS.get(name, {}))
        message = call_tool(tool, args)
        assert message.status == "success", (name, message.content)
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
    minted = MintedTokens(fake)
    client = fake.client("org", clock=fake.clock.now, transport=minted)
    memory, audit_file = MemorySink(), tmp_path / "audit.jsonl"
    audit = AuditLog(memory, JsonlSink(audit_file), LoggingSink(level=logging.WARNING))
    toolkit = FlyToolkit(
        client=client, scope="org", groups=GROUPS, confirm=approve_all, audit=audit
    )

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
    leak_scan.secrets.update(SECRETS | minted.tokens)
    for where, text in collected.texts:
        leak_scan.add(where, text)

    # Minted tokens (deploy, KMS) are withheld: they must have been minted to mean something.
    assert len(minted.tokens) >= 2
    tokens = set(fake.tokens.values()) | minted.tokens | SECRETS - {SECRET_VALUE}
    assert collected.leaks(leak_scan.secrets, tokens) == []
    assert len(memory.records) == len(ENDPOINTS) + 4
    assert SECRET_VALUE not in audit_file.read_text()
    assert "[redacted]" in audit_file.read_text()
