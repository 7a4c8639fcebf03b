"""Every call recorded exactly once, whatever happens; no secret in any payload.

Cancellation after the request reached Fly, a transport failing in an unexpected way,
Ctrl-C at the approval prompt, a strict audit log that cannot write, Fly's error text
echoing a secret, tracing callbacks, artifacts.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler

from fly_tools import (
    ActionRequest,
    AuditError,
    AuditLog,
    Decision,
    FlyToolkit,
    MemorySink,
    approve_all,
)
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD, WEB_1

SECRET = "hunter2-very-secret"


def _toolkit(fake: FakeFly, client: Any = None, **options: Any) -> tuple[FlyToolkit, MemorySink]:
    sink = MemorySink()
    toolkit = FlyToolkit(
        client=client or fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(sink),
        **({"confirm": approve_all} | options),
    )
    return toolkit, sink


def _tool(toolkit: FlyToolkit, name: str) -> Any:
    return next(t for t in toolkit.get_tools() if t.name == name)


def _calls(sink: MemorySink) -> list[Any]:
    return list(sink.records)


async def test_cancelled_after_the_request_reached_fly_is_recorded_as_unknown() -> None:
    fake = FakeFly.demo()
    entered = asyncio.Event()

    class Stalling(httpx.AsyncBaseTransport):
        """Hands the request to the fake, then never answers (the reply is lost)."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await fake.transport().handle_async_request(request)
            if request.method == "DELETE":
                entered.set()
                await asyncio.sleep(3600)
            return response

    client = fake.async_client(scope="deploy", app="web", transport=Stalling())
    toolkit, sink = _toolkit(fake, client)
    task = asyncio.create_task(
        _tool(toolkit, "fly_delete_volume").ainvoke({"volume_id": VOL_DATA_OLD})
    )
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (record,) = _calls(sink)
    assert record.outcome == "unknown"
    assert "may have run" in (record.error or "")


def test_a_transport_failing_oddly_is_recorded_and_reported() -> None:
    fake = FakeFly.demo()

    def broken(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            raise RuntimeError("proxy exploded")
        return httpx.Client(transport=fake.transport()).send(request)

    client = fake.client(scope="deploy", app="web", transport=httpx.MockTransport(broken))
    toolkit, sink = _toolkit(fake, client)
    answer = _tool(toolkit, "fly_delete_volume").invoke({"volume_id": VOL_DATA_OLD})
    assert "may have run" in answer
    (record,) = _calls(sink)
    assert record.outcome == "unknown"


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_ctrl_c_at_the_prompt_is_recorded_and_sends_nothing(interrupt: type[BaseException]) -> None:
    fake = FakeFly.demo()

    def hook(request: ActionRequest) -> Decision:
        raise interrupt()

    toolkit, sink = _toolkit(fake, confirm=hook, confirm_timeout=None)
    with pytest.raises(interrupt):
        _tool(toolkit, "fly_delete_volume").invoke({"volume_id": VOL_DATA_OLD})
    assert not any(r.method == "DELETE" for r in fake.requests)
    (record,) = _calls(sink)
    assert record.outcome == "not_executed"
    assert interrupt.__name__ in (record.error or "")


def test_a_strict_audit_log_that_cannot_write_stops_the_call(tmp_path: Any) -> None:
    from fly_tools import JsonlSink

    fake = FakeFly.demo()
    blocked = tmp_path / "audit.jsonl"
    sink = JsonlSink(blocked)
    blocked.mkdir()  # a directory where the file should be: every write fails
    toolkit = FlyToolkit(
        client=fake.client(scope="deploy", app="web"),
        scope="deploy",
        app="web",
        audit=AuditLog(sink, strict=True),
    )
    answer = _tool(toolkit, "fly_restart_machine").invoke({"machine_id": WEB_1})
    assert "Not executed" in answer
    assert not any(r.method == "POST" and "restart" in r.path for r in fake.requests)
    with pytest.raises(AuditError):
        AuditLog(sink, strict=True).check()


def test_a_failing_sink_is_logged_not_raised_by_default() -> None:
    class Broken:
        def write(self, record: Any) -> None:
            raise OSError("disk full")

    fake = FakeFly.demo()
    toolkit, _ = _toolkit(fake)
    toolkit._runtime.audit = AuditLog(Broken())
    assert "machines" in _tool(toolkit, "fly_list_machines").invoke({})


def test_memory_sink_is_bounded() -> None:
    fake = FakeFly.demo()
    sink = MemorySink(limit=3)
    toolkit = FlyToolkit(client=fake.client(), scope="org", app="web", audit=AuditLog(sink))
    for _ in range(5):
        _tool(toolkit, "fly_list_machines").invoke({})
    assert len(sink.records) == 3
    assert sink.dropped == 2


def test_a_fly_error_has_an_artifact_and_fly_request_id() -> None:
    fake = FakeFly.demo()
    toolkit, sink = _toolkit(fake)
    message = _tool(toolkit, "fly_get_machine").invoke(
        {
            "type": "tool_call",
            "id": "c1",
            "name": "fly_get_machine",
            "args": {"machine_id": "0000000000dead"},
        }
    )
    assert message.status == "error"
    assert message.artifact["executed"] is True
    assert message.artifact["status"] == 404
    (record,) = sink.records
    assert record.context["tool_call_id"] == "c1"


def test_error_text_echoing_a_secret_is_scrubbed() -> None:
    fake = FakeFly.demo()

    def echo(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" or ("secrets" in request.url.path and request.method == "POST"):
            return httpx.Response(400, json={"error": f"bad body: {request.content.decode()}"})
        return httpx.Client(transport=fake.transport()).send(request)

    client = fake.client(scope="deploy", app="web", transport=httpx.MockTransport(echo))
    toolkit, sink = _toolkit(fake, client)
    answer = _tool(toolkit, "fly_set_secret").invoke({"secret_name": "API_KEY", "value": SECRET})
    assert "400" in answer or "bad body" in answer
    assert SECRET not in answer
    assert all(SECRET not in r.to_json() for r in sink.records)


class Recorder(BaseCallbackHandler):
    """Everything a tracer would see."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        self.seen.append(input_str)
        self.seen.append(repr(kwargs.get("inputs")))

    def on_tool_end(self, output: Any, **kwargs: Any) -> None:
        self.seen.append(repr(output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.seen.append(repr(error))


@pytest.mark.parametrize(
    ("tool", "args", "secret"),
    [
        ("fly_set_secret", {"secret_name": "API_KEY", "value": SECRET}, SECRET),
        (
            "fly_exec_machine",
            {"machine_id": WEB_1, "command": ["cat"], "stdin": SECRET},
            SECRET,
        ),
        (
            "fly_exec_machine",
            {"machine_id": WEB_1, "command": ["curl", f"https://u:{SECRET}@example.com"]},
            SECRET,
        ),
        (
            "fly_create_machine",
            {"image": "nginx:1.27", "env": {"API_TOKEN": SECRET}},
            SECRET,
        ),
    ],
)
async def test_callbacks_never_see_secret_values(
    tool: str, args: dict[str, Any], secret: str
) -> None:
    fake = FakeFly.demo()
    toolkit, sink = _toolkit(fake)
    recorder = Recorder()
    call = {"type": "tool_call", "id": "c1", "name": tool, "args": args}
    message = _tool(toolkit, tool).invoke(call, config={"callbacks": [recorder]})
    amessage = await _tool(toolkit, tool).ainvoke(call, config={"callbacks": [recorder]})
    assert recorder.seen
    assert all(secret not in text for text in recorder.seen)
    for result in (message, amessage):
        assert secret not in str(result.content)
        assert secret not in repr(result.artifact)
    assert all(secret not in r.to_json() for r in sink.records)


def test_the_token_in_a_machine_env_never_reaches_an_artifact() -> None:
    fake = FakeFly.demo()
    token = fake.tokens["org"]
    toolkit, _ = _toolkit(fake, fake.client(scope="org"))
    created = _tool(toolkit, "fly_create_machine").invoke(
        {
            "type": "tool_call",
            "id": "c1",
            "name": "fly_create_machine",
            "args": {"image": "nginx:1.27", "env": {"MODE": token}},
        }
    )
    assert token not in repr(created.artifact)
    assert token not in str(created.content)
