"""interrupt_on: the HumanInTheLoopMiddleware mapping built from the tiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import create_model

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.guards import describe_action, interrupt_on
from fly_tools.models.args import FlyArgs
from fly_tools.risk import RiskTier


def fly_tool(endpoint: Endpoint, calls: list[dict[str, Any]], app: str | None = None) -> BaseTool:
    """A tool shaped like the toolkit's: the endpoint's schema (app hidden when bound)."""
    schema: type[FlyArgs] = endpoint.args_model
    if app is not None and "app_name" in schema.model_fields:
        # The model-facing schema of a bound tool has no app_name at all.
        fields = {n: (f.annotation, f) for n, f in schema.model_fields.items() if n != "app_name"}
        schema = create_model(f"{schema.__name__}Bound", **fields)  # type: ignore[call-overload]

    def run(**kwargs: Any) -> str:
        calls.append(kwargs)
        return "done"

    return StructuredTool(
        name=endpoint.name,
        description=endpoint.description,
        args_schema=schema,
        func=run,
        metadata={"risk": endpoint.risk.label, "group": endpoint.group, "bound_app": app},
    )


@pytest.fixture
def tools() -> list[BaseTool]:
    return [fly_tool(e, []) for e in ENDPOINTS.records]


def plain_tool(**metadata: Any) -> BaseTool:
    return StructuredTool.from_function(
        lambda: "hi", name="say_hi", description="Say hi.", metadata=metadata or None
    )


@pytest.mark.parametrize("threshold", [*RiskTier, "destructive", "Disruptive", 1])
def test_one_entry_per_tool_at_or_above_the_threshold(
    tools: list[BaseTool], threshold: RiskTier | str | int
) -> None:
    tier = RiskTier.parse(threshold)
    mapping = interrupt_on([*tools, plain_tool(readOnlyHint=True)], threshold)  # type: ignore[arg-type]
    expected = [e.name for e in ENDPOINTS.records if e.risk >= tier and not e.read_only]
    assert list(mapping) == expected
    assert all(
        entry["allowed_decisions"] == ["approve", "edit", "reject"] for entry in mapping.values()
    )


def test_default_threshold_is_destructive(tools: list[BaseTool]) -> None:
    destructive = {e.name for e in ENDPOINTS.records if e.risk is RiskTier.DESTRUCTIVE}
    assert destructive  # which ones: the tier snapshot in tests/unit/test_catalogue.py
    assert set(interrupt_on(tools)) == destructive


def test_allowed_decisions_are_checked(tools: list[BaseTool]) -> None:
    mapping = interrupt_on(tools, allowed_decisions=["approve", "reject", "approve"])
    assert mapping["fly_delete_app"]["allowed_decisions"] == ["approve", "reject"]
    for bad in (["approve", "maybe"], []):
        with pytest.raises(ValueError, match="allowed_decisions"):
            interrupt_on(tools, allowed_decisions=bad)
    with pytest.raises(ValueError, match="unknown risk tier"):
        interrupt_on(tools, "dangerous")


def test_description_is_the_plain_english_action(
    tools: list[BaseTool], args_for: Callable[..., FlyArgs]
) -> None:
    mapping = interrupt_on(tools, RiskTier.WRITE)
    for name, entry in mapping.items():
        endpoint = ENDPOINTS[name]
        args = args_for(endpoint)
        call_args = args.model_dump(exclude_unset=True)
        if name == "fly_set_secret":
            call_args["value"] = "s3cr3t-value-do-not-leak"
        call = {"name": name, "args": call_args, "id": "c1"}
        assert entry["description"](call, {}, None) == describe_action(endpoint, args)


def test_bound_tool_describes_its_app(args_for: Callable[..., FlyArgs]) -> None:
    tool = fly_tool(ENDPOINTS["fly_delete_volume"], [], app="web")
    describe = interrupt_on([tool])["fly_delete_volume"]["description"]
    call = {"name": "fly_delete_volume", "args": {"volume_id": "vol_abc123"}, "id": "c1"}
    assert describe(call, {}, None) == (
        "Delete volume vol_abc123 in app web. Its data is erased permanently."
    )


def test_invalid_arguments_are_shown_redacted_with_the_problem(secret_value: str) -> None:
    tool = fly_tool(ENDPOINTS["fly_set_secret"], [])
    describe = interrupt_on([tool], "write")["fly_set_secret"]["description"]
    call = {"name": "fly_set_secret", "args": {"app_name": "Web!", "value": secret_value}}
    text = describe(call, {}, None)
    assert secret_value not in text
    assert '"value":"[redacted]"' in text
    assert "invalid (app_name:" in text
    assert "will be refused if approved" in text


def test_a_tool_whose_risk_cannot_be_told_fails_closed() -> None:
    with pytest.raises(ValueError, match="cannot tell how risky tool 'say_hi'"):
        interrupt_on([plain_tool()])


@pytest.mark.parametrize(
    ("metadata", "gated"),
    [
        ({"destructiveHint": True}, True),
        ({"annotations": {"destructiveHint": True, "readOnlyHint": False}}, True),
        ({"readOnlyHint": True}, False),
        ({"annotations": {"readOnlyHint": True}}, False),
    ],
)
def test_tools_without_a_tier_are_judged_by_their_annotations(
    metadata: dict[str, Any], gated: bool
) -> None:
    assert ("say_hi" in interrupt_on([plain_tool(**metadata)])) is gated


def test_a_bound_tool_describes_another_app_as_refused() -> None:
    tool = fly_tool(ENDPOINTS["fly_delete_app"], [], app="web")
    describe = interrupt_on([tool])["fly_delete_app"]["description"]
    text = describe({"name": "fly_delete_app", "args": {"app_name": "worker"}, "id": "c"}, {}, None)
    assert "bound to app 'web'" in text
    assert "refused if approved" in text


def test_a_risky_tool_outside_the_catalogue_is_described_generically() -> None:
    tool = StructuredTool.from_function(
        lambda path: "ok", name="wipe_disk", description="Wipe.", metadata={"risk": "destructive"}
    )
    describe = interrupt_on([tool])["wipe_disk"]["description"]
    assert describe({"name": "wipe_disk", "args": {"path": "/"}}, {}, None) == (
        'wipe_disk (destructive) with arguments {"path":"/"}.'
    )


class ScriptedModel(FakeMessagesListChatModel):
    """A chat model that answers from a list; tools are bound by ignoring them."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_middleware_shows_the_description_and_runs_on_approve(mode: str) -> None:
    agents = pytest.importorskip("langchain.agents")
    from langchain.agents.middleware import HumanInTheLoopMiddleware
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    calls: list[dict[str, Any]] = []
    tool = fly_tool(ENDPOINTS["fly_delete_volume"], calls, app="web")
    call = {"name": "fly_delete_volume", "args": {"volume_id": "vol_abc123"}, "id": "c1"}
    model = ScriptedModel(responses=[AIMessage("", tool_calls=[call]), AIMessage("Deleted.")])
    middleware: Any = HumanInTheLoopMiddleware(
        interrupt_on=interrupt_on([tool]),
        interrupt_mode=mode,  # type: ignore[arg-type]
    )
    agent = agents.create_agent(
        model, tools=[tool], middleware=[middleware], checkpointer=InMemorySaver()
    )
    config = {"configurable": {"thread_id": mode}}

    paused = agent.invoke({"messages": [HumanMessage("delete the volume")]}, config)
    (pending,) = paused["__interrupt__"]
    value = pending.value
    description = (
        value["action_requests"][0]["description"] if mode == "batched" else value["description"]
    )
    assert description == "Delete volume vol_abc123 in app web. Its data is erased permanently."
    assert calls == []

    answer = {"type": "approve"}
    resume = {"decisions": [answer]} if mode == "batched" else {pending.id: answer}
    agent.invoke(Command(resume=resume), config)
    assert calls == [{"volume_id": "vol_abc123"}]


def test_a_hostile_pending_call_is_described_inert() -> None:
    from fly_tools import FlyToolkit
    from fly_tools.render import is_hidden
    from fly_tools.testing import FakeFly

    tool = FlyToolkit(client=FakeFly.demo().client(), scope="org").get_tools()
    describe = interrupt_on(tool)["fly_exec_machine"]["description"]
    command = ["sh", "-c", "echo ok\r\x1b[2K\u202e" + "." * 300 + "; rm -rf /data"]
    text = describe(
        {
            "name": "fly_exec_machine",
            "args": {"app_name": "web", "machine_id": "3d8d9015b23489", "command": command},
        },
        {},
        None,
    )
    assert "rm -rf /data" in text
    assert not any(is_hidden(c) for c in text)
    odd = describe({"name": "fly_exec_machine", "args": {"app_name": "web\x1b"}}, {}, None)
    assert not any(is_hidden(c) for c in odd)
