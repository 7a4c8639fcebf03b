"""The change set a reviewer reads: a machine's config before -> after, the secrets a call sets or unsets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from fly_tools.catalogue import Endpoint
from fly_tools.guards.redact import redact_args
from fly_tools.models.machine_spec import UpdateMachineArgs
from fly_tools.render import agent_value, quoted, quoted_identifier

if TYPE_CHECKING:
    from fly_tools.models.secretkeys import UpdateSecretsArgs

INDENT = "  "
NOT_SET = "not set"
REMOVED = "removed"
_KEYED_LISTS = {"mounts": ("mount", "path"), "services": ("service on port", "internal_port")}
_FIRST = ("image", "env", "mounts", "services", "guest")
_PLAIN = re.compile(r"[A-Za-z0-9_./#-]{1,200}")


def change_lines(endpoint: Endpoint, args: BaseModel, state: Mapping[str, Any] | None) -> list[str]:
    """Lines listing every field a call changes, in full; empty when it is not a change set.

    An update of a machine whose current config was read: each changed field before ->
    after, as the request will send it (env vars, mounts, services, guest and image each
    a line; removed ones marked ``removed``). A secrets update: the names set and unset,
    never the values.
    """
    # Imported here: the secrets area's models load only once a change is described.
    from fly_tools.models.secretkeys import UpdateSecretsArgs

    if isinstance(args, UpdateSecretsArgs):
        return _secret_lines(args)
    if isinstance(args, UpdateMachineArgs) and isinstance(state, Mapping):
        return _config_lines(endpoint, args, state)
    return []


def _secret_lines(args: UpdateSecretsArgs) -> list[str]:
    lines = ["Secrets the agent changes (values never shown):"]
    if isinstance(args.values, SecretStr):
        lines.append(f"{INDENT}set: the names are hidden behind the redaction placeholder")
    elif args.values:
        names = ", ".join(quoted(name) for name in args.values)
        lines.append(f"{INDENT}set (an existing value is replaced for good): {names}")
    if args.unset:
        names = ", ".join(quoted(name) for name in args.unset)
        lines.append(f"{INDENT}unset (the value is lost for good): {names}")
    return lines


def _config_lines(
    endpoint: Endpoint, args: UpdateMachineArgs, state: Mapping[str, Any]
) -> list[str]:
    before = state.get("config")
    if not isinstance(before, dict):
        return []
    try:
        after = args.update_body(dict(state))["config"]
    except ValueError:
        return []  # the call will be refused before anything is sent; the settings say why
    shown_before = redact_args(endpoint, {"config": before}).get("config", {})
    shown_after = redact_args(endpoint, {"config": after}).get("config", {})
    diff = config_diff(before, after, shown_before, shown_after)
    head = (
        "Changes to its config, before (read from Fly) -> after (given by the agent, not checked):"
    )
    lines = [head, *(f"{INDENT}{line}" for line in diff)]
    if not diff:
        lines = ["Its config stays as it is: it restarts with the same config."]
    if args.current_version is not None:
        lines.append(f"{INDENT}only if it is still version {agent_value(args.current_version)}")
    return lines


def config_diff(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    shown_before: Mapping[str, Any] | None = None,
    shown_after: Mapping[str, Any] | None = None,
) -> list[str]:
    """``env LD_PRELOAD: not set -> "/x.so"`` for every field that differs, in full.

    Changes are found on the real values and shown with ``shown_*`` (the redacted
    copies), so a changed secret reads ``"[redacted]" -> "[redacted]"`` yet is listed.
    """
    shown_before = before if shown_before is None else shown_before
    shown_after = after if shown_after is None else shown_after
    keys = [k for k in _FIRST if k in before or k in after]
    keys += sorted((set(before) | set(after)) - set(_FIRST))
    lines: list[str] = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        shown_old, shown_new = shown_before.get(key), shown_after.get(key)
        if key in ("env", "guest") and _is_map(old, new):
            label = "env" if key == "env" else "guest"
            lines += _entries(label, old or {}, new or {}, shown_old or {}, shown_new or {})
        elif key in _KEYED_LISTS and _is_list(old, new):
            label, by = _KEYED_LISTS[key]
            pair = (_keyed(old or [], by), _keyed(new or [], by))
            shown = (_keyed(shown_old or [], by), _keyed(shown_new or [], by))
            lines += _entries(label, *pair, *shown)
        else:
            lines.append(_line(_label(key), key in before, key in after, shown_old, shown_new))
    return lines


def _entries(
    label: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    shown_old: Mapping[str, Any],
    shown_new: Mapping[str, Any],
) -> list[str]:
    names = list(dict.fromkeys([*old, *new]))
    return [
        _line(
            f"{label} {_label(name)}",
            name in old,
            name in new,
            shown_old.get(name),
            shown_new.get(name),
        )
        for name in names
        if old.get(name) != new.get(name) or (name in old) != (name in new)
    ]


def _line(label: str, was: bool, stays: bool, old: Any, new: Any) -> str:
    before = agent_value(old) if was else NOT_SET
    after = agent_value(new) if stays else REMOVED
    return f"{label}: {before} -> {after}"


def _label(name: str) -> str:
    # Names in a config read from Fly may hold anything: a plain one bare, others quoted.
    return name if _PLAIN.fullmatch(name) else quoted_identifier(name)


def _keyed(items: list[Any], by: str) -> dict[str, Any]:
    keyed: dict[str, Any] = {}
    for index, item in enumerate(items):
        name = item.get(by) if isinstance(item, Mapping) else None
        key = str(name) if name is not None else f"#{index + 1}"
        keyed[key if key not in keyed else f"{key} #{index + 1}"] = item
    return keyed


def _is_map(*values: Any) -> bool:
    return all(v is None or isinstance(v, Mapping) for v in values)


def _is_list(*values: Any) -> bool:
    return all(v is None or isinstance(v, list) for v in values)
