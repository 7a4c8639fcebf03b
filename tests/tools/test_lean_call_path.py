"""The lean call path keeps every guarantee: one validation, one record, no retry loop unused.

A tool call is validated once, by the pipeline, so an invalid call is refused, recorded
once (secret values redacted) and never sent; a bound toolkit's call naming another app
still fails the bound schema; LangChain still hands the run's config to the tool; the
client builds its retry loop only when a first attempt failed in a retryable way.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
import tenacity
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage

from fly_tools import AuditLog, FlyToolkit, MemorySink, ServerError, approve_all
from fly_tools.testing import FakeFly, Fault
from fly_tools.testing.world import WEB_1

SECRET = "hunter2-very-secret"
MACHINE = {"app_name": "web", "machine_id": WEB_1}


class Inputs(BaseCallbackHandler):
    """What tracing callbacks are shown of each tool run."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.seen.append(f"{input_str} {kwargs.get('inputs')}")


def _tool(fake: FakeFly, name: str, **options: Any) -> tuple[Any, MemorySink]:
    sink = MemorySink()
    scope = "deploy" if options.get("app") else "org"
    toolkit = FlyToolkit(
        client=fake.client(scope=scope), scope=scope, audit=AuditLog(sink), **options
    )
    return next(t for t in toolkit.get_tools() if t.name == name), sink


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_call", "id": "call-1", "name": name, "args": args}


def test_an_invalid_call_is_refused_recorded_once_redacted_and_never_sent() -> None:
    fake = FakeFly.demo()
    tool, sink = _tool(fake, "fly_set_secret", confirm=approve_all)
    inputs = Inputs()
    args = {"app_name": "web", "secret_name": "not a name!", "value": SECRET}
    message = tool.invoke(_call("fly_set_secret", args), config={"callbacks": [inputs]})

    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert "secret_name" in str(message.content)
    assert message.artifact == {"executed": False, "reason": "invalid arguments"}
    [record] = sink.records
    assert (record.decision, record.decided_by, record.outcome) == (
        "refused",
        "argument check",
        "not_executed",
    )
    assert record.args["value"] == "[redacted]"  # the caller's input, as recorded
    assert record.context["tool_call_id"] == "call-1"
    assert SECRET not in record.to_json() + str(message.content) + " ".join(inputs.seen)
    assert inputs.seen  # the callbacks did run, and saw the value veiled
    assert [r.endpoint for r in fake.requests if r.method != "GET"] == []


def test_a_bound_tool_naming_another_app_still_fails_its_schema() -> None:
    fake = FakeFly.demo()
    tool, sink = _tool(fake, "fly_get_machine", app="web")
    message = tool.invoke(_call("fly_get_machine", {**MACHINE, "app_name": "worker"}))

    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert "app_name" in str(message.content)
    assert [(r.decision, r.decided_by) for r in sink.records] == [("refused", "argument check")]
    assert fake.requests == []


@pytest.mark.parametrize("run_async", [False, True])
async def test_the_run_config_still_reaches_the_call(run_async: bool) -> None:
    fake = FakeFly.demo()
    tool, sink = _tool(fake, "fly_get_machine")
    config: Any = {"configurable": {"thread_id": "thread-7"}}
    call = _call("fly_get_machine", MACHINE)
    message = await tool.ainvoke(call, config) if run_async else tool.invoke(call, config)

    assert isinstance(message, ToolMessage)
    assert message.status == "success"
    [record] = sink.records
    assert record.context["thread_id"] == "thread-7"
    assert [r.endpoint for r in fake.requests] == ["fly_get_machine"]


class _NoRetryLoop:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a retry loop was built for a call that needed none")


def test_a_call_that_succeeds_at_once_builds_no_retry_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeFly.demo()
    monkeypatch.setattr(tenacity, "Retrying", _NoRetryLoop)
    assert fake.client().call("fly_get_machine", MACHINE)["id"] == WEB_1
    assert [r.status for r in fake.requests] == [200]


async def test_an_async_call_that_succeeds_at_once_builds_no_retry_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeFly.demo()
    monkeypatch.setattr(tenacity, "AsyncRetrying", _NoRetryLoop)
    async with fake.async_client() as client:
        assert (await client.call("fly_get_machine", MACHINE))["id"] == WEB_1
    assert [r.status for r in fake.requests] == [200]


async def _get_machine(fake: FakeFly, run_async: bool) -> Any:
    if run_async:
        return await fake.async_client(max_retries=2).call("fly_get_machine", MACHINE)
    return fake.client(max_retries=2).call("fly_get_machine", MACHINE)


@pytest.mark.parametrize("run_async", [False, True])
async def test_a_retried_call_counts_its_first_attempt(run_async: bool) -> None:
    fake = FakeFly.demo()
    fake.inject(Fault.status(503), count=5, match="fly_get_machine")
    started = fake.clock.now()
    with pytest.raises(ServerError, match="503"):
        await _get_machine(fake, run_async)
    # The first attempt and two retries, with two backoff waits (0.25 s and 0.5 s, plus
    # up to 0.25 s of jitter each): the replayed first failure is attempt 1.
    assert [r.status for r in fake.requests] == [503, 503, 503]
    assert 0.75 <= fake.clock.now() - started <= 1.25
