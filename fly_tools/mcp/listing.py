"""What ``tools/list`` shows: each toolkit tool's name, lean schema, title and four explicit hints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.tools import BaseTool
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from fly_tools.catalogue import Endpoint
from fly_tools.risk import RiskTier

GUEST_TEXT_PATHS = ("/exec", "/events", "/ps")
"""Path endings whose responses carry text the machine's guest wrote.

Exec output, event messages and process command lines come from whatever runs inside
the machine, so an MCP host should treat them as untrusted input (``openWorldHint``).
Every other response is Fly's own bookkeeping.
"""

META_PREFIX = "fly-tools/"
"""Prefix of the ``_meta`` keys each tool carries (its tier, group and approval need)."""


def tier_of(tool: BaseTool) -> RiskTier:
    """The tool's risk tier, read from its metadata.

    Raises:
        ValueError: the tool carries no tier (it is not a toolkit tool).
    """
    metadata = tool.metadata or {}
    if "risk" not in metadata:
        raise ValueError(f"tool {tool.name!r} carries no risk tier in its metadata")
    return RiskTier.parse(metadata["risk"])


def annotations_for(tool: BaseTool) -> ToolAnnotations:
    """All four MCP hints, set explicitly from the tool's tier, path and idempotency.

    ``readOnlyHint`` for the READ tier; ``destructiveHint`` false for READ and WRITE and
    true for DISRUPTIVE and DESTRUCTIVE (stopping a machine interrupts work, which a host
    should confirm like a delete); ``idempotentHint`` from the catalogue; ``openWorldHint``
    only where the output carries guest-written text.
    """
    metadata: Mapping[str, Any] = tool.metadata or {}
    tier = tier_of(tool)
    return ToolAnnotations(
        title=title_for(tool),
        read_only_hint=tier is RiskTier.READ,
        destructive_hint=tier >= RiskTier.DISRUPTIVE,
        idempotent_hint=bool(metadata.get("idempotentHint", False)),
        open_world_hint=bool(metadata.get("openWorldHint"))
        or str(metadata.get("path", "")).endswith(GUEST_TEXT_PATHS),
    )


def title_for(tool: BaseTool) -> str:
    """A short human title: ``fly_delete_volume`` reads ``Delete volume``."""
    words = tool.name.removeprefix("fly_").replace("_", " ")
    return words[:1].upper() + words[1:]


def input_schema_for(tool: BaseTool) -> dict[str, Any]:
    """The schema the model sees: LangChain's tool-call schema (a bound ``app_name`` absent).

    Its top-level ``description`` and ``title`` are dropped: the tool's own description and
    title already say them, and a host sends both to the model (a fifth more tokens).
    """
    schema = tool.tool_call_schema
    if isinstance(schema, dict):
        found = dict(schema)
    elif issubclass(schema, BaseModel):
        found = schema.model_json_schema()
    else:
        raise TypeError(f"tool {tool.name!r} has a pydantic v1 schema; MCP needs JSON Schema")
    return {key: value for key, value in found.items() if key not in ("description", "title")}


def _listed(items: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"result": {"type": "array", "items": items}},
        "required": ["result"],
    }


def _record(*required: str) -> dict[str, Any]:
    properties = {name: {"type": "string"} for name in required}
    return {"type": "object", "properties": properties, "required": list(required)}


_ROW: dict[str, Any] = {"type": "object"}
OUTPUT_SCHEMAS: dict[str, dict[str, Any]] = {
    "machines": _listed(_record("id")),
    "processes": _listed(_ROW),
    "events": _listed(_ROW),
    "versions": _listed(_ROW),
    "volumes": _listed(_record("id")),
    "machine": _record("id"),
    "volume": _record("id"),
    "secrets": {
        "type": "object",
        "properties": {"secrets": {"type": "array", "items": _record("name")}},
        "required": ["secrets"],
    },
    "wait": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
}
"""``outputSchema`` by the record's result kind, only for kinds whose answer always has
that shape: lists (as ``{"result": [...]}``), one machine or volume, the secrets list and
a wait's answer. Only what Fly always sends is required; the rest stays open."""


def output_schema_for(tool: BaseTool) -> dict[str, Any] | None:
    """The shape of a read tool's structured result, when its result kind has a stable one.

    Only reads: a change answers with whatever Fly says about it, which the catalogue does
    not pin down.
    """
    endpoint = getattr(tool, "endpoint", None)  # a toolkit tool's own record, whatever catalogue
    if not isinstance(endpoint, Endpoint) or tier_of(tool) is not RiskTier.READ:
        return None
    return OUTPUT_SCHEMAS.get(endpoint.result)


def meta_for(tool: BaseTool, *, gated: bool) -> dict[str, Any]:
    """``_meta`` for the tool: its tier and group, and whether a human must approve it here."""
    metadata: Mapping[str, Any] = tool.metadata or {}
    return {
        f"{META_PREFIX}risk": tier_of(tool).label,
        f"{META_PREFIX}group": metadata.get("group"),
        f"{META_PREFIX}needs-approval": gated,
    }
