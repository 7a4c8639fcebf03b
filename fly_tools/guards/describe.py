"""Plain-English descriptions of tool calls: what happens, where, and what it costs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from fly_tools.catalogue import Endpoint
from fly_tools.guards.decisions import Target, target_of
from fly_tools.guards.redact import redact_args

# What a gated call costs, for the DISRUPTIVE and DESTRUCTIVE endpoints. A test keeps
# this table and the catalogue's gated endpoints in step.
CONSEQUENCES: Mapping[str, str] = {
    "fly_delete_app": "Its machines, volumes and secrets are deleted with it; "
    "this cannot be undone.",
    "fly_update_machine": "It restarts with the new config and is briefly unavailable.",
    "fly_delete_machine": "It is destroyed permanently; anything not on a volume is lost.",
    "fly_stop_machine": "It stops serving until started again.",
    "fly_restart_machine": "It is briefly unavailable while it restarts.",
    "fly_suspend_machine": "It stops serving until started again, then resumes from memory.",
    "fly_signal_machine": "Its main process gets the signal, which may make it reload or exit.",
    "fly_exec_machine": "The command runs inside the machine with full access and may change "
    "or delete anything there.",
    "fly_extend_volume": "A volume can never shrink back: the new size is permanent.",
    "fly_delete_volume": "Its data is erased permanently.",
    "fly_delete_secret": "Its value is lost for good; machines drop it on their next update.",
}

# English for the verbs in tool names that do not read as a plain imperative or past tense.
_PRESENT = {"get": "show", "exec": "run a command in", "wait": "wait for"}
_PAST = {
    "get": "read",
    "set": "set",
    "stop": "stopped",
    "signal": "signalled",
    "exec": "ran a command in",
    "wait": "waited for",
}
_WORDS = {"oidc": "OIDC"}
# Arguments already said by the target phrase, or not worth a human's attention.
_SAID = frozenset({"app_name", "machine_id", "volume_id", "secret_name", "lease_nonce"})
_LOOKUPS = {"machine": ("fly_get_machine", "machine_id"), "volume": ("fly_get_volume", "volume_id")}
_MAX_VALUE = 80
_MAX_SETTINGS = 320


def state_lookup(endpoint: Endpoint, args: BaseModel) -> tuple[str, dict[str, Any]] | None:
    """The cheap read that makes a description of this call better, if there is one.

    Returns the tool name and its arguments: the machine for a call on a machine, the
    volume for a call on a volume, the app for deleting an app; ``None`` for reads and
    for calls where nothing cheap helps (creating, secrets, tokens).
    """
    if endpoint.read_only:
        return None
    app = getattr(args, "app_name", None)
    if endpoint.target in _LOOKUPS:
        tool, id_field = _LOOKUPS[endpoint.target]
        return tool, {"app_name": app, id_field: getattr(args, id_field, None)}
    if endpoint.path == "/apps/{app_name}":
        return "fly_get_app", {"app_name": app}
    return None


def describe_action(
    endpoint: Endpoint, args: BaseModel, state: Mapping[str, Any] | None = None
) -> str:
    """One or two sentences a person can approve or reject without reading JSON.

    ``Stop machine 3d8d9015b23489 (web-1, started, ord) in app web. It stops serving
    until started again.`` Secret values never appear.

    Args:
        endpoint: the endpoint being called.
        args: its validated arguments.
        state: what :func:`state_lookup`'s read returned, if it was made.
    """
    target = target_of(endpoint, args)
    # Only the state state_lookup asks for says anything about this target.
    looked_up = state if state_lookup(endpoint, args) is not None else None
    phrase = action_phrase(endpoint, target, details=_state_details(endpoint, looked_up))
    org = getattr(args, "org_slug", None)
    if endpoint.target == "app" and isinstance(org, str):
        phrase += f" in organization {org}"
    sentence = f"{phrase[0].upper()}{phrase[1:]}{_settings(endpoint, args)}."
    consequence = CONSEQUENCES.get(endpoint.name)
    return f"{sentence} {consequence}" if consequence else sentence


def action_phrase(
    endpoint: Endpoint, target: Target, *, past: bool = False, details: str = ""
) -> str:
    """The call as a lower-case verb phrase: ``stop machine X in app web``.

    The verb and object come from the tool name (``fly_<verb>_<object>``); ``past``
    gives ``stopped machine X in app web`` for the audit trail.
    """
    verb, *words = endpoint.name.removeprefix("fly_").split("_")
    verb_text = _past_tense(verb) if past else _PRESENT.get(verb, verb)
    return f"{verb_text} {_object_phrase(words, target, details)}"


def _object_phrase(words: list[str], target: Target, details: str) -> str:
    where = target.phrase(details)
    noun = " ".join(_WORDS.get(w, w) for w in words)
    if words == [target.kind]:
        return where  # delete machine X
    if words[0] == target.kind:
        return f"the {' '.join(words[1:])} of {where}"  # list the events of machine X
    if noun.endswith("s"):
        return f"the {noun} in {where}"  # list the machines in app web
    if words[0] in ("app", "machine", "volume", "secret"):
        return f"a {noun} in {where}"  # create a machine in app web
    return f"the {noun} for {where}"  # acquire the lease for machine X


def _past_tense(verb: str) -> str:
    if verb in _PAST:
        return _PAST[verb]
    return f"{verb}d" if verb.endswith("e") else f"{verb}ed"


def _state_details(endpoint: Endpoint, state: Mapping[str, Any] | None) -> str:
    if not isinstance(state, Mapping):
        return ""
    parts: list[str] = []
    if endpoint.target == "machine":
        parts = [_text(state.get(key)) for key in ("name", "state", "region")]
    elif endpoint.target == "volume":
        parts = [_text(state.get("name")), _size(state.get("size_gb"))]
        attached = _text(state.get("attached_machine_id"))
        parts.append(f"attached to machine {attached}" if attached else "not attached")
    elif endpoint.target == "app":
        parts = [
            _count(state.get("machine_count"), "machine"),
            _count(state.get("volume_count"), "volume"),
        ]
    shown = [p for p in parts if p]
    return f" ({', '.join(shown)})" if shown else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _size(value: Any) -> str:
    return f"{value} GB" if isinstance(value, int) and not isinstance(value, bool) else ""


def _count(value: Any, noun: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    return f"{value} {noun}" + ("" if value == 1 else "s")


def _settings(endpoint: Endpoint, args: BaseModel) -> str:
    """``, with signal=SIGTERM, timeout=30s`` for the arguments the caller chose."""
    chosen = args.model_fields_set - _SAID
    if endpoint.target in ("app", "org"):
        chosen -= {"org_slug"}
    shown = {k: v for k, v in redact_args(endpoint, args).items() if k in chosen}
    if not shown:
        return ""
    text = ", ".join(f"{key}={_short(value)}" for key, value in shown.items())
    if len(text) > _MAX_SETTINGS:
        text = text[: _MAX_SETTINGS - 1] + "…"
    return f", with {text}"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"
