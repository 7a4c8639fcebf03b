"""Plain-English descriptions of tool calls: what happens, where, and what it costs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from fly_tools.catalogue import ENDPOINTS, Catalogue, Endpoint
from fly_tools.guards.changes import change_lines
from fly_tools.guards.decisions import VERSION_FACT, Target, target_of
from fly_tools.guards.redact import redact_args
from fly_tools.render import agent_value, identifier, quoted, quoted_identifier

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
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
"""A target named as it is: an app name, an id, a hostname, an IP address."""
_WORD = re.compile(r"[a-z0-9_-]{1,40}")
"""A fact shown bare: a state, a region, an id."""
_MAX_NAME = 80
"""Characters of a name read from Fly shown in a description; the rest is cut, visibly."""


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
    """Sentences a person can approve or reject without reading JSON: the whole change.

    ``Stop machine 3d8d9015b23489 in app web (read from Fly just now: named "web-1",
    started, ord). It stops serving until started again.`` Facts read from Fly come in
    the parenthesis; everything the agent chose follows, each value quoted in full (a
    command, env values), after ``Given by the agent, not checked:``. An update of a
    machine whose config was read lists each changed field, before -> after; a secrets
    update names the secrets set and unset. Every character another party wrote goes
    through :mod:`fly_tools.render`, so none reaches a person raw, and nothing is cut
    without a mark saying so. Secret values never appear.

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
    where = target_phrase(target)
    org = getattr(args, "org_slug", None)
    if endpoint.target == "app" and isinstance(org, str):
        where += f" in organization {identifier(org)}"
    if lookup is not None:
        details = _state_details(endpoint, state)
        where += (
            f" (read from Fly just now: {details})"
            if details
            else " (its current state could not be read)"
        )
    phrase = says(endpoint, where)
    sentences = [f"{phrase[0].upper()}{phrase[1:]}."]
    if endpoint.consequence:
        sentences.append(endpoint.consequence)
    text = " ".join(sentences)
    changes = change_lines(endpoint, args, state)
    if changes:
        return text + "\n" + "\n".join(changes)
    chosen = _settings(endpoint, args)
    return f"{text} Given by the agent, not checked: {chosen}." if chosen else text


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
        facts[VERSION_FACT] = state.get("instance_id") or state.get("version")
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


def target_phrase(target: Target, details: str = "") -> str:
    """``machine 3d8d9015b23489 in app web``, each name shown through the renderer."""
    shown = Target(
        kind=target.kind,
        app=_name(target.app) if target.app is not None else None,
        id=_name(target.id) if target.id is not None else None,
    )
    return shown.phrase(details)


def _name(value: str) -> str:
    # Validated names are plain; the raw ones of an invalid call may hold anything: quoted.
    return value if _PLAIN_NAME.fullmatch(value) else quoted_identifier(value)


def action_phrase(
    tool: Endpoint | str,
    target: Target,
    *,
    past: bool = False,
    details: str = "",
    catalogue: Catalogue = ENDPOINTS,
) -> str:
    """The call as a lower-case verb phrase: ``stop machine X in app web``.

    The words are the record's :attr:`~fly_tools.catalogue.Endpoint.phrase`; a tool given
    by name is looked up in ``catalogue`` (the package's unless given). A record without a phrase (or a
    name no catalogue knows) reads ``call fly_x on machine X in app web``: nothing is
    guessed from the tool name.

    Args:
        tool: the endpoint, or its tool name.
        target: the resource acted on.
        past: ``stopped machine X in app web``, for the audit trail.
        details: what a read of the target said about it.
        catalogue: where a tool given by name is looked up.
    """
    endpoint = tool if isinstance(tool, Endpoint) else catalogue.get(tool)
    where = target_phrase(target, details)
    if endpoint is None:
        name = identifier(tool if isinstance(tool, str) else "")
        return f"called {name} on {where}" if past else f"call {name} on {where}"
    return says(endpoint, where, past=past)


def says(endpoint: Endpoint, where: str, *, past: bool = False) -> str:
    """The record's phrase with ``where`` (an already rendered target) in place."""
    if endpoint.phrase is None:
        name = identifier(endpoint.name)
        return f"called {name} on {where}" if past else f"call {name} on {where}"
    return endpoint.phrase.says(where, past=past)


def _state_details(endpoint: Endpoint, state: Mapping[str, Any] | None) -> str:
    if not isinstance(state, Mapping):
        return ""
    parts: list[str] = []
    name = _text(state.get("name"))
    # Names are chosen by whoever created the resource (possibly the agent): quoted, and
    # a long one cut with a mark, so it cannot push the facts after it out of sight.
    where = f"Fly ({endpoint.state_read or 'a read of the target'})"
    named = f"named {quoted_identifier(name, limit=_MAX_NAME, where=where)}" if name else ""
    if endpoint.target == "machine":
        parts = [named, _fact(state.get("state")), _fact(state.get("region"))]
    elif endpoint.target == "volume":
        parts = [named, _size(state.get("size_gb"))]
        attached = _text(state.get("attached_machine_id"))
        parts.append(f"attached to machine {_fact(attached)}" if attached else "not attached")
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
                parts.append(f"{key} {quoted(value, limit=_MAX_NAME, where=where)}")
    return ", ".join(p for p in parts if p)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _fact(value: Any) -> str:
    # A state or region is a short word from Fly; anything else is quoted like a name, so
    # it cannot pose as more facts or as the end of them.
    text = _text(value)
    if not text:
        return ""
    return text if _WORD.fullmatch(text) else quoted_identifier(text, limit=_MAX_NAME)


def _size(value: Any) -> str:
    return f"{value} GB" if isinstance(value, int) and not isinstance(value, bool) else ""


def _count(value: Any, noun: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    return f"{value} {noun}" + ("" if value == 1 else "s")


def _settings(endpoint: Endpoint, args: BaseModel) -> str:
    """``command=["ls", "-la"], signal="SIGTERM"``: every argument the caller chose, whole."""
    chosen = args.model_fields_set - _SAID
    if endpoint.target in ("app", "org"):
        chosen -= {"org_slug"}
    shown = {k: v for k, v in redact_args(endpoint, args).items() if k in chosen}
    # Quoted with every quote inside escaped, so text the agent chose cannot pose as a fact.
    return ", ".join(f"{identifier(key)}={agent_value(value)}" for key, value in shown.items())
