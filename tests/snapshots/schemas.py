"""Each tool's model-facing schema as a JSON snapshot: build, read, compare and write them.

A snapshot holds what a model is sent for the tool (name, description, the argument
schema as LangChain converts it for a chat model) and the facts a reviewer checks beside
it (tier, scopes, group, default or opt-in, the MCP-style hints).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import httpx
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from fly_tools import ENDPOINTS, FlyClient, FlyToolkit
from fly_tools.risk import GROUPS

FOLDER = Path(__file__).parent / "tools"
REFRESH = "python -m tests.snapshots.refresh"

Snapshot = dict[str, Any]


def _every_tool() -> list[BaseTool]:
    """All operations, unbound to an app, as an org-scoped toolkit offers them; no network."""
    client = FlyClient(
        token="snapshot",
        transport=httpx.MockTransport(lambda _: httpx.Response(500)),
        rate_limit=False,
    )
    return FlyToolkit(client=client, scope="org", groups=list(GROUPS)).get_tools()


def snapshot(tool: BaseTool) -> Snapshot:
    endpoint = ENDPOINTS[tool.name]
    metadata = {k: v for k, v in (tool.metadata or {}).items() if k != "bound_app"}
    return {
        "function": convert_to_openai_tool(tool)["function"],
        "default": endpoint.default,
        "metadata": metadata,
    }


def current() -> dict[str, Snapshot]:
    return {tool.name: snapshot(tool) for tool in _every_tool()}


def stored() -> dict[str, Snapshot]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(FOLDER.glob("*.json"))}


def text(snap: Snapshot) -> str:
    # Key order kept as built: a schema's property order is what the model reads.
    return json.dumps(snap, indent=2, ensure_ascii=False) + "\n"


def drift(now: dict[str, Snapshot], kept: dict[str, Snapshot]) -> str:
    """What differs between the tools and their snapshots, and the command that refreshes them."""
    new = sorted(now.keys() - kept.keys())
    gone = sorted(kept.keys() - now.keys())
    changed = sorted(n for n in now.keys() & kept.keys() if now[n] != kept[n])
    if not (new or gone or changed):
        return ""
    lines = [f"tool schemas differ from their snapshots in {FOLDER}"]
    named = {"changed": changed, "new": new, "gone": gone}
    lines += [f"  {label}: {', '.join(names)}" for label, names in named.items() if names]
    for name in changed[:3]:  # enough to see the kind of change; the refresh shows all
        before, after = text(kept[name]).splitlines(), text(now[name]).splitlines()
        lines += difflib.unified_diff(
            before, after, f"snapshot/{name}.json", "now", n=1, lineterm=""
        )
    lines.append(f"If meant, refresh them from the repository root, then review: {REFRESH}")
    return "\n".join(lines)


def write(now: dict[str, Snapshot]) -> tuple[list[str], list[str]]:
    """Writes every tool's snapshot and deletes those of tools that are gone."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    written = []
    for name, snap in now.items():
        path = FOLDER / f"{name}.json"
        if not path.exists() or path.read_text() != text(snap):
            path.write_text(text(snap))
            written.append(name)
    gone = sorted(p.stem for p in FOLDER.glob("*.json") if p.stem not in now)
    for name in gone:
        (FOLDER / f"{name}.json").unlink()
    return written, gone


def default_names() -> set[str]:
    """The tools a toolkit offers when it names no groups, as the reviewed snapshots say."""
    return {name for name, snap in stored().items() if snap["default"]}


def names_in_group(group: str) -> set[str]:
    return {name for name, snap in stored().items() if snap["metadata"]["group"] == group}
