"""The LangChain internals the tool class leans on, all here, each with the reason why.

:class:`~fly_tools.tools.factory.FlyTool` otherwise uses LangChain's public surface:
``run``/``arun`` (public; their ``tool_call_id`` argument carries the call's id),
``tool_call_schema`` (public) and ``_run``/``_arun``, the abstract methods ``BaseTool``
documents as the place a tool does its work. Three things are not public, and each
saves work LangChain would do on every call:

- ``BaseTool._to_args_and_kwargs(tool_input, tool_call_id)`` validates the input with
  ``args_schema`` and dumps it back to a dict. The tool pipeline validates the caller's
  own input itself (and records a refusal with the arguments, redacted), so LangChain's
  pass would be a second validation. :class:`HookedTool` skips it when the subclass says
  so (:meth:`HookedTool.validated_later`) and keeps it otherwise.
- ``BaseTool._filter_injected_args(tool_input)`` works out which keys are injected
  (``FILTERED_ARGS``, the function's injected parameters, ``InjectedToolArg`` fields) by
  walking the argument model's class hierarchy, on every call, to take them out of what
  callbacks see. The answer is the same for every call: :class:`HookedTool` asks
  LangChain once per tool and keeps it. The names come from ``FILTERED_ARGS`` (public)
  and ``_injected_args_keys`` (private).
- ``BaseTool.run`` reads the type hints of ``_run``/``_arun`` on every call to find the
  parameter that takes the run's config. :func:`resolve_hints` evaluates them once.

Figure 1 of ``benchmarks/RESULTS.md`` times the tool with and without the two overrides
in one run: without them the per-call overhead goes past its goal (1.10× a minimal
``StructuredTool`` over loopback).

``tests/tools/test_langchain_hooks.py`` checks each assumption (the methods exist with
these signatures, ``run`` calls them, LangChain's own filter gives the same answer), and
``.ci/langchain-bounds`` runs it on the lowest and the highest LangChain versions the
package allows, so a release that changes them fails there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_type_hints

from langchain_core.tools import FILTERED_ARGS, StructuredTool
from pydantic import BaseModel, PrivateAttr

HOOKS = ("_to_args_and_kwargs", "_filter_injected_args")
"""The private ``BaseTool`` methods :class:`HookedTool` overrides."""


class HookedTool(StructuredTool):
    """A ``StructuredTool`` that validates once and finds its injected keys once."""

    _hidden: frozenset[str] | None = PrivateAttr(default=None)  # injected keys, found once

    def validated_later(self, tool_input: dict[str, Any]) -> bool:
        """Whether ``tool_input`` goes to ``_run`` unvalidated, to be validated there.

        ``False`` here: LangChain validates as usual. Subclasses whose ``_run`` validates
        the caller's input itself say ``True`` for the inputs it can judge alone.
        """
        return False

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[str, ...], dict[str, Any]]:
        if isinstance(tool_input, dict) and self.validated_later(tool_input):
            return (), dict(tool_input)
        return super()._to_args_and_kwargs(tool_input, tool_call_id)

    def _filter_injected_args(self, tool_input: dict[str, Any]) -> dict[str, Any]:
        if self._hidden is None:
            self._hidden = self._injected_keys()
        return {k: v for k, v in tool_input.items() if k not in self._hidden}

    def _injected_keys(self) -> frozenset[str]:
        # LangChain's own answer, asked once with every name it could filter.
        schema = self.args_schema
        fields = (
            schema.model_fields
            if isinstance(schema, type) and issubclass(schema, BaseModel)
            else {}
        )
        probe = dict.fromkeys((*fields, *FILTERED_ARGS, *self._injected_args_keys))
        return frozenset(probe) - super()._filter_injected_args(probe).keys()


def resolve_hints(*methods: Callable[..., Any]) -> None:
    """Evaluate the type hints of ``methods`` once (written under ``from __future__ import
    annotations`` they are strings, which ``BaseTool.run`` would evaluate on every call)."""
    for method in methods:
        method.__annotations__ = get_type_hints(method)


__all__ = ["HOOKS", "HookedTool", "resolve_hints"]
