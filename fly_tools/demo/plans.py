"""Scripted plans for the demo: each turn they read the tool results so far and pick the next call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from fly_tools.testing.scripted import ScriptedChatModel, call, say

_GONE = frozenset({"destroyed", "destroying", "pending_destroy"})
_LINE_WIDTH = 110


def operator_model(app: str) -> ScriptedChatModel:
    """The scripted operator: start the stopped machine of ``app``, then delete its unused volume.

    Nothing is hard-coded: each turn it reads the listings it made and picks ids from them.
    """
    move = partial(_operator_move, app)
    return ScriptedChatModel(script=[move] * 8, final="Stopping: the plan has no steps left.")


def reporter_model(app: str) -> ScriptedChatModel:
    """The scripted read-only reporter: list machines and volumes of ``app``, then report."""
    move = partial(_reporter_move, app)
    return ScriptedChatModel(script=[move] * 3, final="Stopping: the plan has no steps left.")


def _operator_move(app: str, messages: Sequence[BaseMessage]) -> AIMessage:
    seen = latest_results(messages)
    if "fly_list_machines" not in seen:
        return call("fly_list_machines")
    stopped = next(
        (m for m in rows(seen["fly_list_machines"]) if m.get("state") == "stopped"), None
    )
    if stopped is not None:
        if "fly_start_machine" not in seen:
            return call("fly_start_machine", machine_id=stopped["id"])
        if succeeded(seen["fly_start_machine"]) and "fly_wait_machine" not in seen:
            return call("fly_wait_machine", machine_id=stopped["id"], state="started", timeout=60)
    if "fly_list_volumes" not in seen:
        return call("fly_list_volumes")
    loose = next((v for v in rows(seen["fly_list_volumes"]) if unused(v)), None)
    if loose is not None and "fly_delete_volume" not in seen:
        return call("fly_delete_volume", volume_id=loose["id"])
    return say(_operator_summary(app, seen, stopped, loose))


def _operator_summary(
    app: str,
    seen: Mapping[str, ToolMessage],
    stopped: Mapping[str, Any] | None,
    loose: Mapping[str, Any] | None,
) -> str:
    if not succeeded(seen["fly_list_machines"]):
        return (
            f"I could not list the machines of {app}: {first_line(seen['fly_list_machines'].text)}"
        )
    if stopped is None:
        parts = [f"No machine in {app} was stopped, so there was nothing to start."]
    else:
        name = f"{stopped.get('name') or 'machine'} ({stopped['id']})"
        waited = seen.get("fly_wait_machine") or seen["fly_start_machine"]
        parts = [
            f"Started {name} and it is now started."
            if succeeded(waited)
            else f"I could not get {name} started: {first_line(waited.text)}"
        ]
    if loose is None:
        parts.append("No volume was unused, so I removed none.")
    else:
        name = f"{loose.get('name') or 'volume'} ({loose['id']}, {loose.get('size_gb', '?')} GB)"
        deleted = seen["fly_delete_volume"]
        parts.append(
            f"Deleted volume {name}, which no machine used."
            if succeeded(deleted)
            else f"I did not delete volume {name}: {_why_not(deleted).rstrip('.')}."
        )
    return " ".join(parts)


def _why_not(result: ToolMessage) -> str:
    # The middleware words a rejection as "User rejected the tool call ... with reason: ...".
    _, said, reason = result.text.partition("with reason: ")
    return f"rejected ({reason.strip().rstrip('.')})" if said else first_line(result.text)


def _reporter_move(app: str, messages: Sequence[BaseMessage]) -> AIMessage:
    seen = latest_results(messages)
    for listing in ("fly_list_machines", "fly_list_volumes"):
        if listing not in seen:
            return call(listing)
        if not succeeded(seen[listing]):
            break  # Fly refused or did not answer: another call would only fail the same way
    lines = []
    for listing, kind in (("fly_list_machines", "machine"), ("fly_list_volumes", "volume")):
        if listing not in seen:
            continue
        result = seen[listing]
        if not succeeded(result):
            lines.append(f"I could not list the {kind}s of {app}: {first_line(result.text)}")
            continue
        found = rows(result)
        odd = [r for r in found if r.get("state") == "stopped" or (kind == "volume" and unused(r))]
        names = ", ".join(f"{r.get('name') or r['id']} ({r['id']})" for r in odd) or "none"
        flagged = "stopped" if kind == "machine" else "not attached"
        lines.append(f"{app} has {len(found)} {kind}(s); {flagged}: {names}.")
    return say(" ".join([*lines, "Nothing was changed."]))


def latest_results(messages: Sequence[BaseMessage]) -> dict[str, ToolMessage]:
    """The latest tool result per tool name."""
    return {m.name: m for m in messages if isinstance(m, ToolMessage) and m.name}


def rows(result: ToolMessage) -> list[Mapping[str, Any]]:
    """The records of a successful listing (its artifact), else none."""
    artifact = result.artifact
    if not succeeded(result) or not isinstance(artifact, list):
        return []
    return [r for r in artifact if isinstance(r, Mapping)]


def succeeded(result: ToolMessage) -> bool:
    """Whether a tool result is a success (not an error, not a refusal or rejection)."""
    artifact = result.artifact
    refused = isinstance(artifact, Mapping) and artifact.get("executed") is False
    return result.status != "error" and not refused


def unused(volume: Mapping[str, Any]) -> bool:
    """Whether a volume is attached to no machine (and not on its way out)."""
    return not volume.get("attached_machine_id") and volume.get("state") not in _GONE


def first_line(text: str) -> str:
    """The first line of ``text`` (a tool's answer leads with what happened)."""
    return text.strip().splitlines()[0] if text.strip() else ""


def clip(line: str) -> str:
    """``line`` cut to a terminal line, with ``...`` when cut."""
    return line if len(line) <= _LINE_WIDTH else line[: _LINE_WIDTH - 3] + "..."
