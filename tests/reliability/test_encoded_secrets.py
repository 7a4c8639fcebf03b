"""A secret with newlines, quotes, backslashes and non-ASCII never comes out in any encoding.

Exec stdin that the guest echoes back (``cat``) holds a PEM-like key; Fly errors echo a
request body (JSON-escaped, ``\\/`` escaped); the secret is looked for raw, JSON-escaped,
URL-encoded, base64 and line by line in tool content, artifacts, tracing callbacks, the
audit JSONL, MCP structured content and ``fly-tools call --json``: 0 occurrences.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from langchain_core.messages import ToolCall
from mcp import Client

from fly_tools import AuditLog, FlyToolkit, JsonlSink, MemorySink, approve_all, cli
from fly_tools.cli import options
from fly_tools.mcp import build_server
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1
from tests.mcp.test_calls import type_back
from tests.reliability.support import LeakScan
from tests.tools.test_recorded_once import Recorder

HOSTILE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"quoted"\\back\\slash/\n'
    "BKcwggSjAgEAAoIBAQC7-clé-ünïcödé-密钥-0c4f7e2d\n"
    "-----END PRIVATE KEY-----\n"
)
"""A key the guest echoes back: newlines, quotes, backslashes, a slash, non-ASCII."""


def forms_of(secret: str) -> set[str]:
    """Every form the secret may take in output (tested independently of the scrubber)."""
    forms = {secret, secret.replace("\n", "\r\n")}
    for ascii_only in (True, False):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    data = secret.encode()
    forms |= {quote(data, safe=""), base64.b64encode(data).decode()}
    forms |= {line for line in secret.splitlines() if len(line) > 20 and "-----" not in line}
    return forms


FORMS = forms_of(HOSTILE_KEY)


def found_in(*texts: Any) -> list[str]:
    """The forms of the key found in ``texts`` (each JSON-dumped unless a string)."""
    shown = [t if isinstance(t, str) else json.dumps(t, default=repr) for t in texts]
    shown += [json.dumps(t, ensure_ascii=False, default=repr) for t in texts]
    return sorted({form[:24] for form in FORMS for text in shown if form in text})


def _toolkit(fake: FakeFly, audit: Path, **options: Any) -> FlyToolkit:
    return FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(MemorySink(), JsonlSink(audit)),
        confirm=approve_all,
        **options,
    )


EXEC = {"machine_id": WEB_1, "command": ["cat"], "stdin": HOSTILE_KEY}


async def test_echoed_stdin_is_scrubbed_from_content_artifact_callbacks_and_audit(
    tmp_path: Path, leak_scan: LeakScan
) -> None:
    fake = FakeFly.demo()
    audit = tmp_path / "audit.jsonl"
    toolkit = _toolkit(fake, audit)
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_exec_machine")
    recorder = Recorder()
    call = ToolCall(name=tool.name, args=EXEC, id="c1", type="tool_call")
    message = tool.invoke(call, config={"callbacks": [recorder]})
    amessage = await tool.ainvoke(call, config={"callbacks": [recorder]})
    content, artifact = toolkit.call("fly_exec_machine", EXEC)
    assert message.status != "error", message.content
    assert "[redacted]" in json.dumps(message.artifact)  # the echo came back, scrubbed
    texts = [message.content, message.artifact, amessage.content, amessage.artifact]
    texts += [content, artifact, *recorder.seen, audit.read_text(encoding="utf-8")]
    for text in texts:
        leak_scan.add("encoded secrets", text)
    assert found_in(*texts) == []


async def test_echoed_stdin_is_scrubbed_from_mcp_structured_content() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.async_client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(MemorySink()),
    )
    async with Client(build_server(toolkit), elicitation_callback=type_back) as client:
        result = await client.call_tool("fly_exec_machine", EXEC)
    assert not result.is_error, result
    assert "[redacted]" in json.dumps(result.structured_content)
    assert found_in(result.model_dump_json(), result.structured_content) == []


def test_echoed_stdin_is_scrubbed_from_cli_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = FakeFly.demo()
    monkeypatch.setattr(
        options, "_fake_client", lambda scope, app, **extra: world.client(scope, app)
    )
    for name in ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN", "FLY_API_HOSTNAME", "FLY_FLAPS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    argv = ["call", "fly_exec_machine", "--scope", "deploy", "--app", "web"]
    status = cli.main([*argv, "--args", json.dumps(EXEC), "--yes", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "[redacted]" in out
    assert found_in(out, err) == []


@pytest.mark.parametrize("slashes", [False, True], ids=["plain", "slash-escaped"])
def test_fly_errors_echoing_the_body_are_scrubbed(slashes: bool, tmp_path: Path) -> None:
    fake = FakeFly.demo()

    def echo(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and "/secrets/" in request.url.path:
            body = request.content.decode()
            body = body.replace("/", "\\/") if slashes else body
            return httpx.Response(400, text=f'{{"error": "bad body: {body}"}}')
        return httpx.Client(transport=fake.transport()).send(request)

    audit = tmp_path / "audit.jsonl"
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web", transport=httpx.MockTransport(echo)),
        scope="deploy",
        app="web",
        audit=AuditLog(JsonlSink(audit)),
    )
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_set_secret")
    args = {"secret_name": "TLS_KEY", "value": HOSTILE_KEY}
    message = tool.invoke(ToolCall(name=tool.name, args=args, id="c1", type="tool_call"))
    assert message.status == "error"
    assert "bad body" in str(message.content)
    assert found_in(message.content, message.artifact, audit.read_text(encoding="utf-8")) == []


async def test_callbacks_never_see_a_known_secret_under_a_name_that_looks_plain() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        confirm=approve_all,
    )
    tools = {t.name: t for t in toolkit.get_tools()}
    value = "sk_live_plain-looking-0f9e8d7c"
    tools["fly_set_secret"].invoke({"secret_name": "STRIPE_SK", "value": value})
    recorder = Recorder()
    args = {"image": "nginx:1.27", "env": {"STRIPE_SK": value, "MODE": "live"}}
    call = ToolCall(name="fly_create_machine", args=args, id="c1", type="tool_call")
    tools["fly_create_machine"].invoke(call, config={"callbacks": [recorder]})
    await tools["fly_create_machine"].ainvoke(call, config={"callbacks": [recorder]})
    assert any("live" in text for text in recorder.seen)  # the rest of the input is shown
    assert not any(value in text for text in recorder.seen)
    sent = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/machines")]
    assert len(sent) == 2  # the real value still reached Fly


def test_the_token_echoed_with_escaped_slashes_is_scrubbed_from_error_text() -> None:
    fake = FakeFly.demo()
    token = "fm2_lJPECAAAAAAAAMRz/Zt+Tk/Q0aWQ+a1B2c3D4e5F6g7H8i9J0k/+==,fm2_second/part+x=="

    def echo(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        said = json.dumps({"got": header}).replace("/", "\\/")
        return httpx.Response(401, text=json.dumps({"error": f"bad credential {said}"}))

    client = fake.client(
        scope="deploy", app="web", token=token, transport=httpx.MockTransport(echo)
    )
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=client, scope="deploy", app="web", audit=AuditLog(sink), check_scope=False
    )
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_list_machines")
    message = tool.invoke(ToolCall(name=tool.name, args={}, id="c1", type="tool_call"))
    assert message.status == "error"
    shown = [str(message.content), json.dumps(message.artifact), sink.records[0].to_json()]
    escaped = [token.replace("/", "\\/"), *(p.replace("/", "\\/") for p in token.split(","))]
    assert not [form for form in (token, *escaped) for text in shown if form in text]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("fly_set_secret", {"secret_name": "K", "value": "surrogate-\ud800-secret-5e6f"}),
        (
            "fly_exec_machine",
            {"machine_id": WEB_1, "command": ["cat"], "stdin": "in-\udfff-put-9a8b7c"},
        ),
    ],
)
def test_a_secret_holding_a_lone_surrogate_is_refused_and_never_shown(
    name: str, args: dict[str, Any], tmp_path: Path
) -> None:
    fake = FakeFly.demo()
    audit = tmp_path / "audit.jsonl"
    toolkit = _toolkit(fake, audit)
    secret = args.get("value") or args["stdin"]
    tool = next(t for t in toolkit.get_tools() if t.name == name)
    recorder = Recorder()
    before = len(fake.requests)
    message = tool.invoke(
        ToolCall(name=name, args=args, id="c1", type="tool_call"), config={"callbacks": [recorder]}
    )
    assert "invalid Unicode" in str(message.content)
    assert len(fake.requests) == before
    escaped = secret.encode("utf-8", "backslashreplace").decode()
    shown = [str(message.content), repr(message.artifact), *recorder.seen, audit.read_text()]
    assert not [form for form in (secret, escaped) for text in shown if form in text]
