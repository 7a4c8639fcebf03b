"""Builds one LangChain tool from one catalogue record; no class per tool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from weakref import WeakKeyDictionary

from langchain_core.tools import BaseTool, InjectedToolArg, StructuredTool
from langchain_core.tools.base import ArgsSchema
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.client import FlyError
from fly_tools.guards import state_lookup
from fly_tools.models.base import FlyArgs, lean_schema
from fly_tools.tools.pipeline import ToolOutput, ToolRuntime, reject_invalid, run_async, run_sync


def tool_metadata(endpoint: Endpoint, app: str | None) -> dict[str, Any]:
    """Metadata carried by each tool: tier, scopes, group, operationId and MCP-style hints."""
    return {
        "risk": endpoint.risk.label,
        "scopes": sorted(endpoint.scopes),
        "group": endpoint.group,
        "operation_id": endpoint.operation_id,
        "method": endpoint.method,
        "path": endpoint.path,
        "bound_app": app,
        "readOnlyHint": endpoint.read_only,
        "destructiveHint": endpoint.risk.name == "DESTRUCTIVE",
        "idempotentHint": endpoint.idempotent,
        "openWorldHint": True,
    }


def bound_schema(model: type[FlyArgs], app: str) -> type[FlyArgs]:
    """``model`` with ``app_name`` pinned to ``app`` and hidden from the model-facing schema.

    The field stays in the validating schema as a one-value literal, so a call naming any
    other app fails validation before anything runs.
    """
    pinned = Annotated[Literal[app], InjectedToolArg]  # type: ignore[valid-type]
    return create_model(
        f"{model.__name__}Bound",
        __base__=model,
        __module__=model.__module__,
        app_name=(pinned, Field(default=app, description=f"Always {app!r}.")),
    )


class FlyTool(StructuredTool):
    """The one tool class: a ``StructuredTool`` whose model-facing schema stays lean."""

    _calls: _EndpointCalls | None = PrivateAttr(default=None)

    def current_state(self, args: BaseModel) -> Mapping[str, Any] | None:
        """A cheap read of what a call with ``args`` would touch (for approval prompts).

        ``None`` when nothing cheap helps or the read fails; it never raises.
        """
        return None if self._calls is None else self._calls.current_state(args)

    @property
    def tool_call_schema(self) -> ArgsSchema:
        """LangChain's schema for tool calls, with optional fields shown as their type alone."""
        subset = super().tool_call_schema
        if not isinstance(subset, type) or not issubclass(subset, BaseModel):
            return subset
        lean = _LEAN.get(subset)
        if lean is None:
            fields: dict[str, Any] = {
                name: (field.annotation, field) for name, field in subset.model_fields.items()
            }
            lean = create_model(
                subset.__name__,
                __config__=ConfigDict(json_schema_extra=lean_schema),
                __doc__=subset.__doc__,
                **fields,
            )
            _LEAN[subset] = lean
        return lean


_LEAN: WeakKeyDictionary[type[BaseModel], type[BaseModel]] = WeakKeyDictionary()


def make_tool(endpoint: Endpoint, runtime: ToolRuntime) -> BaseTool:
    """The LangChain tool for ``endpoint``, running through ``runtime``'s guards."""
    schema: type[FlyArgs] = endpoint.args_model
    app = runtime.guard.app
    if app is not None and "app_name" in schema.model_fields:
        schema = bound_schema(schema, app)

    calls = _EndpointCalls(runtime, endpoint)
    tool = FlyTool(
        name=endpoint.name,
        description=_description(endpoint),
        args_schema=schema,
        func=calls.run,
        coroutine=calls.arun,
        response_format="content_and_artifact",
        handle_tool_error=True,
        handle_validation_error=calls.invalid,
        metadata=tool_metadata(endpoint, app),
        tags=["fly", endpoint.group, endpoint.risk.label],
    )
    tool._calls = calls
    return tool


class _EndpointCalls:
    """The tool's entry points, as bound methods (agent runtimes inspect their signatures)."""

    def __init__(self, runtime: ToolRuntime, endpoint: Endpoint) -> None:
        self.runtime = runtime
        self.endpoint = endpoint

    def run(self, **kwargs: Any) -> ToolOutput:
        return run_sync(self.runtime, self.endpoint, kwargs)

    async def arun(self, **kwargs: Any) -> ToolOutput:
        return await run_async(self.runtime, self.endpoint, kwargs)

    def invalid(self, err: ValidationError) -> str:
        return reject_invalid(self.runtime, self.endpoint, err)

    def current_state(self, args: BaseModel) -> Mapping[str, Any] | None:
        lookup = state_lookup(self.endpoint, args)
        if lookup is None:
            return None
        try:
            state = self.runtime.client.call(ENDPOINTS[lookup[0]], lookup[1])
        except FlyError:
            return None
        return state if isinstance(state, Mapping) else None


def _description(endpoint: Endpoint) -> str:
    tier = endpoint.risk.label
    note = "" if endpoint.read_only else f" Risk: {tier}."
    return endpoint.description + note
