"""Two tools for a whole toolkit: one searches its operations, one calls an operation by name."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal, Protocol

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model

from fly_tools.catalogue import Catalogue
from fly_tools.guards import contains_redacted, redact_args, shape_refusal
from fly_tools.guards.context import CallContext
from fly_tools.guards.redact import redact_unknown
from fly_tools.tools.errors import format_validation_error
from fly_tools.tools.factory import RUNNING, FlyTool, call_input, keep_artifact
from fly_tools.tools.runtime import FlyToolError, ToolOutput

SEARCH_TOOL = "fly_search_operations"
CALL_TOOL = "fly_call_operation"
FACADE_DOOR = "facade"
"""``CallContext.front_door`` of calls by name: a decision made for the operation's own
tool (its receipt) is never spent by the facade."""
_WORD = re.compile(r"[a-z0-9]+")
# Where a query word counts most: an operation's name, then what it does, then its fields.
_WEIGHTS = (("name", 3), ("text", 2), ("fields", 1))


class Operations(Protocol):
    """What the facade needs of its toolkit (a :class:`~fly_tools.FlyToolkit`): its
    operations, and its one pipeline to run or refuse a call by name."""

    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def tool_names(self) -> list[str]: ...
    def get_tools(self) -> list[BaseTool]: ...
    def call(
        self, name: str, args: Mapping[str, Any], *, context: CallContext | None = None
    ) -> ToolOutput: ...
    async def acall(
        self, name: str, args: Mapping[str, Any], *, context: CallContext | None = None
    ) -> ToolOutput: ...
    def refuse(
        self, name: str, args: Any, reason: str, *, context: CallContext | None = None
    ) -> FlyToolError: ...


class SearchArgs(BaseModel):
    """What to look for among the toolkit's operations."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1, max_length=200, description="What to do, e.g. 'stop a machine'."
    )
    limit: int = Field(default=5, ge=1, le=10, description="Most matches to return.")


def _call_model(names: tuple[str, ...]) -> type[BaseModel]:
    """The call tool's arguments: one of ``names``, and that operation's arguments."""
    operation: Any = Literal[names]  # one of this toolkit's operations, nothing else
    return create_model(
        "CallOperationArgs",
        __config__=ConfigDict(extra="forbid"),
        operation=(operation, Field(description=f"Operation name (see {SEARCH_TOOL}).")),
        arguments=(
            dict[str, Any],
            Field(default_factory=dict, description="Its arguments, per its schema."),
        ),
    )


def _words(text: str) -> set[str]:
    # Plural and singular count alike: "machines" finds fly_get_machine.
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _WORD.findall(text.lower())}


class OperationIndex:
    """The toolkit's operations as a model may search them: name, tier, description, schema.

    Args:
        tools: the toolkit's per-operation tools (their lean schemas are what is shown).
        catalogue: the toolkit's catalogue, for each tool's endpoint record.
    """

    def __init__(self, tools: list[BaseTool], catalogue: Catalogue) -> None:
        self.entries: list[dict[str, Any]] = []
        self._words: list[dict[str, set[str]]] = []
        for tool in tools:
            endpoint = catalogue[tool.name]
            parameters = convert_to_openai_tool(tool)["function"]["parameters"]
            self.entries.append(
                {
                    "name": tool.name,
                    "tier": endpoint.risk.label,
                    "description": endpoint.description,
                    "parameters": parameters,
                }
            )
            fields = " ".join(parameters.get("properties", {}))
            self._words.append(
                {
                    "name": _words(tool.name.replace("_", " ")),
                    "text": _words(
                        f"{endpoint.description} {endpoint.group} {endpoint.risk.label}"
                    ),
                    "fields": _words(fields.replace("_", " ")),
                }
            )

    def search(self, query: str, limit: int = 5) -> list[dict[str, Any]]:
        """The best ``limit`` matches for ``query``, best first (catalogue order on ties)."""
        wanted = _words(query) - {"fly", "a", "an", "the", "of", "to", "my"}
        scored = []
        for i, words in enumerate(self._words):
            score = sum(w * len(wanted & words[part]) for part, w in _WEIGHTS)
            if score:
                scored.append((-score, i))
        return [self.entries[i] for _, i in sorted(scored)[:limit]]


def _search_tool(index: OperationIndex) -> BaseTool:
    def search(query: str, limit: int = 5) -> tuple[str, list[dict[str, Any]]]:
        found = index.search(query, limit)
        if not found:
            names = ", ".join(e["name"] for e in index.entries)
            return f"No operation matches {query!r}. Operations: {names}.", []
        return json.dumps(found, separators=(",", ":")), found

    return StructuredTool(
        name=SEARCH_TOOL,
        description=(
            "Find Fly operations for a task: each match's name, risk tier, description and "
            f"argument schema. Run one with {CALL_TOOL}."
        ),
        args_schema=SearchArgs,
        func=search,
        response_format="content_and_artifact",
        metadata={"readOnlyHint": True, "facade": True},
        tags=["fly", "facade"],
    )


class FacadeCallTool(FlyTool):
    """The call tool: a :class:`FlyTool` whose operation is named in its arguments.

    The operation runs through the toolkit's one pipeline (:meth:`~fly_tools.FlyToolkit.call`), so
    validation by the operation's own model, app binding, guard, approval receipt, rate
    limits and audit are those of the operation's own tool, and the audit record names
    the operation. The tool-call id reaches the receipt check as for any ``FlyTool``.
    """

    _toolkit: Any = PrivateAttr(default=None)

    def _run(
        self,
        *args: Any,
        config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> Any:
        raw, context = call_input(kwargs, config, run_manager)
        context = replace(context, front_door=FACADE_DOOR)
        name, arguments = _operation(kwargs, raw)
        try:
            return self._toolkit.call(name, arguments, context=context)
        except FlyToolError as err:
            keep_artifact(err)
            raise

    async def _arun(
        self,
        *args: Any,
        config: RunnableConfig,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> Any:
        raw, context = call_input(kwargs, config, run_manager)
        context = replace(context, front_door=FACADE_DOOR)
        name, arguments = _operation(kwargs, raw)
        try:
            return await self._toolkit.acall(name, arguments, context=context)
        except FlyToolError as err:
            keep_artifact(err)
            raise

    def _veiled(self, tool_input: str | dict[str, Any]) -> str | dict[str, Any]:
        # Callbacks and tracers see the operation's secret values redacted, as its own
        # tool would show them.
        if not isinstance(tool_input, dict):
            return tool_input
        name, inner = tool_input.get("operation"), tool_input.get("arguments")
        if not isinstance(inner, Mapping):
            return tool_input
        endpoint = self._toolkit.catalogue.get(name) if isinstance(name, str) else None
        # An operation outside the toolkit is refused, but its input is shown first.
        shown = redact_args(endpoint, inner) if endpoint is not None else redact_unknown(inner)
        if not contains_redacted(shown) and shape_refusal(inner) is None:
            return tool_input
        return {**tool_input, "arguments": {k: shown.get(k, v) for k, v in inner.items()}}


def _operation(parsed: Mapping[str, Any], raw: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    # The name as validated; the arguments as the caller sent them (callbacks were shown
    # a copy with secret values redacted, which must not be what is sent).
    arguments = raw.get("arguments", parsed.get("arguments"))
    return str(parsed["operation"]), arguments if isinstance(arguments, Mapping) else {}


class _Invalid:
    """The call tool's answer to a malformed call or an operation outside the toolkit:
    recorded as a refusal of the operation named (nothing ran), then explained."""

    def __init__(self, toolkit: Operations) -> None:
        self.toolkit = toolkit

    def __call__(self, err: ValidationError) -> str:
        running = RUNNING.get()
        raw = running.raw if running is not None and isinstance(running.raw, Mapping) else {}
        name, inner = raw.get("operation"), raw.get("arguments")
        message = (
            f"{format_validation_error(CALL_TOOL, err)}\n"
            f"Find operation names and their arguments with {SEARCH_TOOL}."
        )
        context = CallContext(
            tool_call_id=running.tool_call_id if running is not None else None,
            front_door="langchain",
        )
        operation = name if isinstance(name, str) and name else CALL_TOOL
        self.toolkit.refuse(
            operation, inner if isinstance(inner, Mapping) else {}, message, context=context
        )
        return message


def _call_tool(toolkit: Operations) -> BaseTool:
    tool = FacadeCallTool(
        name=CALL_TOOL,
        description=(
            f"Run a Fly operation by name with its arguments (find both with {SEARCH_TOOL}). "
            "Same checks, approvals and audit as the operation's own tool."
        ),
        args_schema=_call_model(tuple(toolkit.tool_names)),
        func=_never_called,
        response_format="content_and_artifact",
        handle_tool_error=True,
        handle_validation_error=_Invalid(toolkit),
        metadata={"bound_app": None, "facade": True},
        tags=["fly", "facade"],
    )
    tool._toolkit = toolkit
    return tool


def _never_called(**kwargs: Any) -> ToolOutput:
    # FacadeCallTool overrides _run and _arun; StructuredTool still needs a function.
    raise AssertionError("FacadeCallTool runs through its toolkit")


def facade_tools(toolkit: Operations) -> list[BaseTool]:
    """A search tool and a call tool covering every operation of ``toolkit`` (and no other).

    Args:
        toolkit: the toolkit whose filters, guard, approver and audit log apply.

    Returns:
        ``[fly_search_operations, fly_call_operation]``.
    """
    index = OperationIndex(toolkit.get_tools(), toolkit.catalogue)
    return [_search_tool(index), _call_tool(toolkit)]
