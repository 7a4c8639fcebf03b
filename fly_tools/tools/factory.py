"""Builds one LangChain tool from one catalogue record; no class per tool."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal
from weakref import WeakKeyDictionary

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langchain_core.tools.base import ArgsSchema
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model
from pydantic.fields import FieldInfo

from fly_tools.catalogue import Endpoint
from fly_tools.guards import contains_redacted, redact_args, scrub_value, shape_refusal
from fly_tools.guards.context import CallContext, from_runnable_config
from fly_tools.guards.prepared import PreparedCall
from fly_tools.models.base import FlyArgs, is_obvious, tool_call_schema_extra
from fly_tools.tools.langchain_hooks import HookedTool, resolve_hints
from fly_tools.tools.pipeline import reject_invalid, run_async, run_sync
from fly_tools.tools.runtime import FlyToolError, ToolkitRuntime, ToolOutput


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
        "destructiveHint": endpoint.risk.name in ("DISRUPTIVE", "DESTRUCTIVE"),
        "idempotentHint": endpoint.idempotent,
        # Output another party controls (a guest's command output, metadata, env values):
        # the record's untrusted fields (fly_tools.untrusted fences them).
        "openWorldHint": endpoint.guest_output or bool(endpoint.untrusted),
    }


def bound_schema(model: type[FlyArgs], app: str) -> type[FlyArgs]:
    """``model`` with ``app_name`` pinned to ``app``.

    The field stays in the validating schema as a one-value literal, so a call naming any
    other app fails validation before anything runs; :attr:`FlyTool.tool_call_schema`
    leaves it out of what the model sees. It is not an injected argument: agent runtimes
    strip model-supplied injected arguments, which would let the bound default run while
    a reviewer read the model's value.
    """
    pinned = Literal[app]  # type: ignore[valid-type]
    return create_model(
        f"{model.__name__}Bound",
        __base__=model,
        __module__=model.__module__,
        app_name=(pinned, Field(default=app, description=f"Always {app!r}.")),
    )


@dataclass
class _Running:
    """The tool run in progress: its call id, the caller's real input, its error artifact."""

    tool_call_id: str | None
    raw: Any
    artifact: dict[str, Any] | None = None


RUNNING: ContextVar[_Running | None] = ContextVar("fly_tools_running", default=None)


class FlyTool(HookedTool):
    """The one tool class: a ``StructuredTool`` whose schema stays lean and whose runs
    show no secret value to callbacks and carry an artifact on failure.

    It overrides LangChain's public ``run``/``arun`` and ``tool_call_schema``, and
    ``_run``/``_arun``, the methods ``BaseTool`` leaves to every tool to write. The
    private methods it relies on are in :mod:`fly_tools.tools.langchain_hooks`.
    """

    _calls: _EndpointCalls | None = PrivateAttr(default=None)

    @property
    def endpoint(self) -> Endpoint | None:
        """The catalogue record this tool was built from."""
        return None if self._calls is None else self._calls.endpoint

    @property
    def tool_call_schema(self) -> ArgsSchema:
        """LangChain's schema for tool calls, as lean as a chat model can use: optional
        fields shown as their type alone, no titles or ``false`` defaults
        (:func:`~fly_tools.models.base.tool_call_schema_extra`), no description where the
        field's name says it (``OBVIOUS``), and no ``app_name`` when the toolkit is bound
        to one app. Arguments are still validated by ``args_schema``, the full model."""
        subset = super().tool_call_schema
        if not isinstance(subset, type) or not issubclass(subset, BaseModel):
            return subset
        lean = _LEAN.get(subset)
        if lean is None:
            bound = (self.metadata or {}).get("bound_app") is not None
            full = self.args_schema if isinstance(self.args_schema, type) else None
            full_fields = full.model_fields if full and issubclass(full, BaseModel) else {}
            fields: dict[str, Any] = {}
            for name, field in subset.model_fields.items():
                if bound and name == "app_name":
                    continue
                if name in full_fields and is_obvious(full_fields[name]):
                    field = FieldInfo.merge_field_infos(field, description=None)
                fields[name] = (field.annotation, field)
            lean = create_model(
                subset.__name__,
                __config__=ConfigDict(json_schema_extra=tool_call_schema_extra),
                __doc__=subset.__doc__,
                **fields,
            )
            _LEAN[subset] = lean
        return lean

    def run(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        """LangChain's ``run``: callbacks see secret values redacted; failures keep their
        artifact; the tool-call id reaches the receipt check and the audit record."""
        running = _Running(kwargs.get("tool_call_id"), tool_input)
        token = RUNNING.set(running)
        try:
            output = super().run(self._veiled(tool_input), *args, **kwargs)
        finally:
            RUNNING.reset(token)
        return _with_artifact(output, running)

    async def arun(self, tool_input: str | dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        """Async twin of :meth:`run`."""
        running = _Running(kwargs.get("tool_call_id"), tool_input)
        token = RUNNING.set(running)
        try:
            output = await super().arun(self._veiled(tool_input), *args, **kwargs)
        finally:
            RUNNING.reset(token)
        return _with_artifact(output, running)

    def _run(
        self,
        *args: Any,
        config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> Any:
        # BaseTool's documented extension point; the config and run manager parameters are
        # how BaseTool.run hands a tool the run's config and its callbacks.
        if self._calls is None:
            return super()._run(*args, config=config, run_manager=run_manager, **kwargs)
        raw, context = call_input(kwargs, config, run_manager)
        return self._calls.run_with(raw, context)

    async def _arun(
        self,
        *args: Any,
        config: RunnableConfig,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> Any:
        if self._calls is None:
            return await super()._arun(*args, config=config, run_manager=run_manager, **kwargs)
        raw, context = call_input(kwargs, config, run_manager)
        return await self._calls.arun_with(raw, context)

    def validated_later(self, tool_input: dict[str, Any]) -> bool:
        """The pipeline validates the caller's own input (and records a refusal), so
        LangChain's validation would be done twice. It stays where it decides something:
        a bound toolkit's call naming another app fails the bound schema."""
        return self._calls is not None and not self._names_other_app(tool_input)

    def _names_other_app(self, tool_input: Mapping[str, Any]) -> bool:
        return PreparedCall.names_other_app(tool_input, (self.metadata or {}).get("bound_app"))

    def _veiled(self, tool_input: str | dict[str, Any]) -> str | dict[str, Any]:
        # What callbacks and tracers record: the same input with secret values redacted.
        # Values the toolkit already knows as secret are scrubbed too, whatever the name
        # they are stored under now (``STRIPE_SK`` does not look secret; its value does).
        if self._calls is None or not isinstance(tool_input, dict):
            return tool_input
        redacted = redact_args(self._calls.endpoint, tool_input)
        shown = scrub_value(redacted, self._calls.runtime.secret_values())
        if shown == tool_input:  # nothing hidden or cut, told without another walk
            return tool_input
        if not contains_redacted(shown) and shape_refusal(tool_input) is None:
            return tool_input  # nothing hidden, nothing cut: the input as it came
        return {k: shown.get(k, v) for k, v in tool_input.items()}


_LEAN: WeakKeyDictionary[type[BaseModel], type[BaseModel]] = WeakKeyDictionary()
resolve_hints(FlyTool._run, FlyTool._arun)


def call_input(
    parsed: Mapping[str, Any], config: RunnableConfig, run_manager: Any
) -> tuple[Mapping[str, Any], CallContext]:
    """The caller's own input (not the redacted copy callbacks saw) and the call's ids."""
    running = RUNNING.get()
    raw: Any = running.raw if running is not None else None
    call_id = running.tool_call_id if running is not None else None
    context = from_runnable_config(config, getattr(run_manager, "run_id", None), call_id)
    return (raw if isinstance(raw, Mapping) else parsed), context


def _with_artifact(output: Any, running: _Running) -> Any:
    if isinstance(output, ToolMessage) and output.status == "error" and running.artifact:
        return output.model_copy(update={"artifact": running.artifact})
    return output


def make_tool(endpoint: Endpoint, runtime: ToolkitRuntime) -> BaseTool:
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

    def __init__(self, runtime: ToolkitRuntime, endpoint: Endpoint) -> None:
        self.runtime = runtime
        self.endpoint = endpoint

    def run(self, **kwargs: Any) -> ToolOutput:
        return self.run_with(kwargs, None)

    async def arun(self, **kwargs: Any) -> ToolOutput:
        return await self.arun_with(kwargs, None)

    def run_with(self, raw: Mapping[str, Any], context: CallContext | None) -> ToolOutput:
        try:
            return run_sync(self.runtime, self.endpoint, raw, context)
        except FlyToolError as err:
            keep_artifact(err)
            raise

    async def arun_with(self, raw: Mapping[str, Any], context: CallContext | None) -> ToolOutput:
        try:
            return await run_async(self.runtime, self.endpoint, raw, context)
        except FlyToolError as err:
            keep_artifact(err)
            raise

    def invalid(self, err: ValidationError) -> str:
        running = RUNNING.get()
        context = CallContext(tool_call_id=running.tool_call_id if running else None)
        error = reject_invalid(self.runtime, self.endpoint, err, context)
        keep_artifact(error)
        return str(error)


def keep_artifact(err: FlyToolError) -> None:
    """Keep ``err``'s artifact for the running call's ``ToolMessage`` (its error has one)."""
    running = RUNNING.get()
    if running is not None:
        running.artifact = err.artifact


def _description(endpoint: Endpoint) -> str:
    tier = endpoint.risk.label
    note = "" if endpoint.read_only else f" Risk: {tier}."
    return endpoint.description + note
