"""The LangChain internals :mod:`fly_tools.tools.langchain_hooks` relies on still hold.

Each test states one assumption the hooks make about ``BaseTool``: the private method
exists with the signature overridden, ``run`` calls it as assumed, and LangChain's own
implementation gives what the hook keeps. A LangChain release that changes any of them
fails here (``.ci/langchain-bounds`` runs this file on the lowest and highest versions
the package allows), not in a user's agent.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import FILTERED_ARGS, BaseTool, InjectedToolArg, StructuredTool
from pydantic import BaseModel, Field

from fly_tools import FlyToolkit
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1
from fly_tools.tools.factory import FlyTool
from fly_tools.tools.langchain_hooks import HOOKS, HookedTool

MACHINE = {"app_name": "web", "machine_id": WEB_1}
CALL = {"type": "tool_call", "id": "call-7", "name": "fly_get_machine", "args": MACHINE}


class Seen(BaseCallbackHandler):
    """The ``inputs`` callbacks are given at the start of each tool run."""

    def __init__(self) -> None:
        self.inputs: list[Any] = []

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, **kwargs: Any) -> None:
        self.inputs.append(kwargs.get("inputs"))


def _tool(**options: Any) -> FlyTool:
    fake = FakeFly.demo()
    scope = "deploy" if options.get("app") else "org"
    toolkit = FlyToolkit(client=fake.client(scope=scope), scope=scope, **options)
    tool = next(t for t in toolkit.get_tools() if t.name == "fly_get_machine")
    assert isinstance(tool, FlyTool)
    return tool


def _parameters(method: Any) -> list[str]:
    return list(inspect.signature(method).parameters)


def test_the_hooked_methods_exist_on_base_tool_with_the_signatures_overridden() -> None:
    assert HOOKS == ("_to_args_and_kwargs", "_filter_injected_args")
    assert _parameters(BaseTool._to_args_and_kwargs) == ["self", "tool_input", "tool_call_id"]
    assert _parameters(BaseTool._filter_injected_args) == ["self", "tool_input"]
    for name in HOOKS:
        assert _parameters(getattr(HookedTool, name)) == _parameters(getattr(BaseTool, name))


def test_run_calls_both_hooks_once_with_the_input_and_the_call_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tool = _tool()
    calls: list[tuple[str, Any]] = []
    original = {name: getattr(HookedTool, name) for name in HOOKS}

    def to_args(self: HookedTool, tool_input: Any, tool_call_id: str | None) -> Any:
        calls.append(("_to_args_and_kwargs", (tool_input, tool_call_id)))
        return original["_to_args_and_kwargs"](self, tool_input, tool_call_id)

    def filtered(self: HookedTool, tool_input: dict[str, Any]) -> dict[str, Any]:
        calls.append(("_filter_injected_args", tool_input))
        return original["_filter_injected_args"](self, tool_input)  # type: ignore[no-any-return]

    monkeypatch.setattr(HookedTool, "_to_args_and_kwargs", to_args)
    monkeypatch.setattr(HookedTool, "_filter_injected_args", filtered)
    message = tool.invoke(CALL)

    assert isinstance(message, ToolMessage)
    assert message.status == "success"
    assert sorted(calls, key=lambda c: c[0]) == [
        ("_filter_injected_args", MACHINE),
        ("_to_args_and_kwargs", (MACHINE, "call-7")),
    ]


def test_the_base_conversion_validates_and_returns_keyword_arguments() -> None:
    # What the hook skips: LangChain's validation, whose result is ((), {field: value}).
    tool = _tool()
    args, kwargs = StructuredTool._to_args_and_kwargs(tool, dict(MACHINE), "call-7")
    assert (args, kwargs["app_name"], kwargs["machine_id"]) == ((), "web", WEB_1)
    # The hook hands the input over as it came, for the pipeline to validate.
    assert tool._to_args_and_kwargs(dict(MACHINE), "call-7") == ((), MACHINE)


def test_a_bound_tool_naming_another_app_is_still_validated_by_langchain() -> None:
    tool = _tool(app="web")
    other = {**MACHINE, "app_name": "worker"}
    assert not tool.validated_later(other)
    message = tool.invoke({**CALL, "args": other})
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert "app_name" in str(message.content)


class _Probe(BaseModel):
    query: str = Field(description="What to look for.")
    secret: Annotated[str, InjectedToolArg] = Field(description="Injected.")


def _probe(query: str, secret: str) -> str:
    return query


class _ProbeTool(HookedTool):
    """A hooked tool with an injected argument, compared against LangChain's own filter."""


def test_the_kept_injected_keys_are_langchains_own_answer() -> None:
    tool = _ProbeTool(name="probe", description="Probe.", func=_probe, args_schema=_Probe)
    given = {"query": "q", "secret": "s", "run_manager": None, "callbacks": None}
    assert {"run_manager", "callbacks"} <= set(FILTERED_ARGS)
    expected = StructuredTool._filter_injected_args(tool, given)
    assert expected == {"query": "q"}  # LangChain still takes injected keys out
    assert tool._filter_injected_args(given) == expected
    assert tool._filter_injected_args({"query": "r"}) == {"query": "r"}  # from the kept set


def test_callbacks_see_the_filtered_input() -> None:
    tool = _ProbeTool(name="probe", description="Probe.", func=_probe, args_schema=_Probe)
    seen = Seen()
    assert tool.invoke({"query": "q", "secret": "s"}, config={"callbacks": [seen]}) == "q"
    assert seen.inputs == [{"query": "q"}]


def test_run_hands_the_config_to_a_run_method_that_asks_for_it() -> None:
    # resolve_hints turns the annotations into types; BaseTool.run must still find the
    # parameter typed RunnableConfig and pass the run's config to it.
    hints = FlyTool._run.__annotations__
    assert hints["config"] is RunnableConfig
    tool = _tool()
    seen: list[Any] = []
    original = FlyTool._run

    def spy(self: FlyTool, *args: Any, config: RunnableConfig, **kwargs: Any) -> Any:
        seen.append(config.get("configurable"))
        return original(self, *args, config=config, **kwargs)

    spy.__annotations__ = dict(hints)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FlyTool, "_run", spy)
        tool.invoke(CALL, config={"configurable": {"thread_id": "t-1"}})
    assert [configurable["thread_id"] for configurable in seen] == ["t-1"]
