"""Plain-English descriptions of tool calls: what happens, where, and what it costs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from fly_tools.catalogue import Endpoint
from fly_tools.guards.decisions import Target, target_of
from fly_tools.guards.redact import redact_args

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
_SAID = frozenset(
    {"app_name", "machine_id", "volume_id", "secret_name", "lease_nonce", "hostname", "ip"}
)
# Path identifiers of resources, outermost first: a state read takes the call's own.
# (A metadata key is not one: the read for a metadata change is the machine's.)
_IDENTIFIERS = ("org_slug", "app_name", "machine_id", "volume_id", "secret_name", "hostname", "ip")
_FACT_KEYS: Mapping[str, tuple[str, ...]] = {
    "machine": ("name", "state", "region"),
    "volume": ("name", "state", "size_gb", "region", "attached_machine_id"),
    "app": ("name", "status", "machine_count", "volume_count"),
    "certificate": ("hostname", "status", "configured"),
    "secretkey": ("name", "type", "updated_at"),
    "secret": ("name", "digest", "updated_at"),
    "ip": ("ip", "region", "shared", "service_name"),
}
_MAX_VALUE = 80
_MAX_SETTINGS = 320


def state_lookup(endpoint: Endpoint, args: BaseModel) -> tuple[str, dict[str, Any]] | None:
    """The cheap read that makes a description of this call better, if there is one.

    Returns the tool name (the record's ``state_read``) and its arguments, the call's
    own path identifiers: the machine for a call on a machine, the volume for a call on
    a volume, the app for deleting an app; ``None`` for reads and for calls where
    nothing cheap helps (creating, secrets, tokens).
    """
    if endpoint.read_only or endpoint.state_read is None:
        return None
    params = [p for p in _IDENTIFIERS if p in endpoint.path_params]
    return endpoint.state_read, {p: getattr(args, p, None) for p in params}


def changed_during_review(shown: str, now: str) -> str:
    """Why an answer does not cover a call that reads differently now than when shown."""
    return (
        "Fly's state changed while it was under review, so the answer given does not cover "
        f'it (shown: "{shown}"; now: "{now}")'
    )


ASK_AGAIN = "Call the tool again to ask the reviewer about it as it stands now."
"""What the model is told to do about a call refused by :func:`changed_during_review`."""


def describe_action(
    endpoint: Endpoint,
    args: BaseModel,
    state: Mapping[str, Any] | None = None,
    *,
    read: bool | None = None,
) -> str:
    """Sentences a person can approve or reject without reading JSON.

    ``Stop machine 3d8d9015b23489 in app web (read from Fly just now: named "web-1",
    started, ord). It stops serving until started again.`` Facts read from Fly come in
    the parenthesis; anything the agent chose (a command, env values) follows, quoted
    and marked as the agent's. Secret values never appear.

    Args:
        endpoint: the endpoint being called.
        args: its validated arguments.
        state: what :func:`state_lookup`'s read returned, if it was made.
        read: whether that read was attempted (default: whether ``state`` was given);
            an attempted read that failed is said.
    """
    target = target_of(endpoint, args)
    attempted = state is not None if read is None else read
    lookup = state_lookup(endpoint, args) if attempted else None
    phrase = action_phrase(endpoint, target)
    org = getattr(args, "org_slug", None)
    if endpoint.target == "app" and isinstance(org, str):
        phrase += f" in organization {org}"
    if lookup is not None:
        details = _state_details(endpoint, state)
        phrase += (
            f" (read from Fly just now: {details})"
            if details
            else " (its current state could not be read)"
        )
    sentences = [f"{phrase[0].upper()}{phrase[1:]}."]
    if endpoint.consequence:
        sentences.append(endpoint.consequence)
    chosen = _settings(endpoint, args)
    if chosen:
        sentences.append(f"Given by the agent, not checked: {chosen}.")
    return " ".join(sentences)


def facts_of(endpoint: Endpoint, state: Mapping[str, Any] | None) -> dict[str, Any]:
    """Structured facts from a state read, for hooks that decide on data: empty if none.

    Machines: ``name``, ``state``, ``region``, ``version``. Volumes: ``name``, ``state``,
    ``size_gb``, ``region``, ``attached_machine_id``, ``attached``. Apps: ``name``,
    ``status``, ``machine_count``, ``volume_count``.
    """
    if not isinstance(state, Mapping):
        return {}
    keys = _FACT_KEYS.get(endpoint.target, ())
    facts = {key: state.get(key) for key in keys}
    if endpoint.target == "machine":
        facts["version"] = state.get("instance_id") or state.get("version")
    if endpoint.target == "volume":
        facts["attached"] = bool(state.get("attached_machine_id"))
    return facts


def type_back_for(endpoint: Endpoint, args: BaseModel) -> str | None:
    """What a person types back to approve: the target of a delete, the machine of an exec.

    ``None`` unless the record asks for it (``type_back``).
    """
    if not endpoint.type_back:
        return None
    target = target_of(endpoint, args)
    return (target.app if target.kind == "app" else target.id) or None


def action_phrase(
    tool: Endpoint | str, target: Target, *, past: bool = False, details: str = ""
) -> str:
    """The call as a lower-case verb phrase: ``stop machine X in app web``.

    Args:
        tool: the endpoint, or its tool name: the verb and object come from the name
            alone (``fly_<verb>_<object>``), so any catalogue's records read the same.
        target: the resource acted on.
        past: ``stopped machine X in app web``, for the audit trail.
        details: what a read of the target said about it.
    """
    name = tool if isinstance(tool, str) else tool.name
    verb, *words = name.removeprefix("fly_").split("_")
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
    name = _text(state.get("name"))
    # Names are chosen by whoever created the resource (possibly the agent): quoted.
    named = f"named {json.dumps(name, ensure_ascii=False)}" if name else ""
    if endpoint.target == "machine":
        parts = [named, _text(state.get("state")), _text(state.get("region"))]
    elif endpoint.target == "volume":
        parts = [named, _size(state.get("size_gb"))]
        attached = _text(state.get("attached_machine_id"))
        parts.append(f"attached to machine {attached}" if attached else "not attached")
    elif endpoint.target == "app":
        parts = [
            _count(state.get("machine_count"), "machine"),
            _count(state.get("volume_count"), "volume"),
        ]
    else:
        # Other kinds: the read's plain facts as key=value, quoted where they are text.
        for key in _FACT_KEYS.get(endpoint.target, ()):
            value = state.get(key)
            if key not in ("name", "hostname", "ip") and isinstance(value, str | int | bool):
                parts.append(f"{key} {json.dumps(value, ensure_ascii=False)[:_MAX_VALUE]}")
    return ", ".join(p for p in parts if p)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _size(value: Any) -> str:
    return f"{value} GB" if isinstance(value, int) and not isinstance(value, bool) else ""


def _count(value: Any, noun: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    return f"{value} {noun}" + ("" if value == 1 else "s")


def _settings(endpoint: Endpoint, args: BaseModel) -> str:
    """``command=["ls","-la"], signal="SIGTERM"`` for the arguments the caller chose."""
    chosen = args.model_fields_set - _SAID
    if endpoint.target in ("app", "org"):
        chosen -= {"org_slug"}
    shown = {k: v for k, v in redact_args(endpoint, args).items() if k in chosen}
    if not shown:
        return ""
    text = ", ".join(f"{key}={_short(value)}" for key, value in shown.items())
    if len(text) > _MAX_SETTINGS:
        text = text[: _MAX_SETTINGS - 1] + "…"
    return text


def _short(value: Any) -> str:
    # Always JSON, so text the agent chose is visibly quoted and cannot pose as a fact.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + '…"'
