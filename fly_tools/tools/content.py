"""Turns Fly's JSON answers into short text a model can act on; the full JSON stays in the artifact.

Every summary names what happened and the fields an operator needs (ids, names, states,
regions, image, size, IPs, checks), and stays bounded: long lists are summarised with
counts by state and region, the first rows, and how to narrow the list.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fly_tools.catalogue import Endpoint, ResultKind
from fly_tools.client.core import NOTE_KEY
from fly_tools.guards.decisions import target_of
from fly_tools.models.args import FlyArgs

MAX_ROWS = 20
"""Rows shown before a list is summarised."""
MAX_TEXT = 1500
"""Characters of command output shown in content."""
BEING_DESTROYED = frozenset(
    {
        "scheduling_destroy",
        "fork_cleanup",
        "waiting_for_detach",
        "pending_destroy",
        "destroying",
        "destroyed",
    }
)
"""Volume states fly-go filters out of lists as deleted; Fly still lists them for a while."""


def summarise(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    """Concise text for the model describing the outcome of ``endpoint`` called with ``args``."""
    note = result.get(NOTE_KEY) if isinstance(result, Mapping) else None
    if note and set(result) <= {"ok", NOTE_KEY}:
        # The client recognised the call as done by an attempt whose reply was lost.
        return f"{_subject(endpoint, args)} {note}. Do not repeat the call."
    text = RENDERERS[endpoint.result](endpoint, args, result)
    return f"{text}\nNote: {note}." if note else text


def _subject(endpoint: Endpoint, args: FlyArgs) -> str:
    for field, noun in (
        ("hostname", "Certificate"),
        ("ip", "IP address"),
        ("secret_name", "Secret"),
        ("volume_id", "Volume"),
        ("machine_id", "Machine"),
        ("app_name", "App"),
        ("org_slug", "Organization"),
    ):
        value = getattr(args, field, None)
        if value is not None:
            lease = "Lease on machine" if endpoint.group == "leases" else noun
            return f"{lease} {value}"
    return endpoint.name


def iso_time(timestamp: Any) -> str:
    """An event timestamp (Unix milliseconds, as Fly sends them) as ISO 8601 UTC text."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        return str(timestamp) if timestamp is not None else "?"
    seconds = timestamp / 1000 if timestamp > 1e11 else timestamp
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(timestamp)


# ---------------------------------------------------------------- single resources


def machine_line(m: Mapping[str, Any]) -> str:
    """One line per machine: id, name, state, region, size, image, IP, checks."""
    config = m.get("config") or {}
    parts = [
        str(m.get("id", "?")),
        str(m.get("name", "")),
        str(m.get("state", "?")),
        str(m.get("region", "?")),
        _size(config.get("guest") or {}),
        f"image={_short_image(config.get('image') or _image_ref(m))}",
    ]
    if m.get("private_ip"):
        parts.append(f"ip={m['private_ip']}")
    checks = _checks(m.get("checks") or [])
    if checks:
        parts.append(f"checks {checks}")
    return " ".join(p for p in parts if p)


def machine_detail(m: Mapping[str, Any]) -> str:
    """A few lines describing one machine."""
    config = m.get("config") or {}
    lines = [f"Machine {machine_line(m)}"]
    version = m.get("instance_id") or m.get("version")
    if version:
        lines.append(f"version {version}, updated {m.get('updated_at', '?')}")
    mounts = config.get("mounts") or []
    if mounts:
        lines.append(
            "mounts: " + ", ".join(f"{x.get('volume')} at {x.get('path')}" for x in mounts)
        )
    services = config.get("services") or []
    if services:
        lines.append("services: " + ", ".join(_service(s) for s in services))
    for check in m.get("checks") or []:
        if check.get("status") != "passing":
            lines.append(f"check {check.get('name')} {check.get('status')}")
    if m.get("host_status") not in (None, "ok"):
        lines.append(f"host {m['host_status']}: state may be stale")
    return "\n".join(lines)


def volume_line(v: Mapping[str, Any]) -> str:
    """One line per volume: id, name, size, region, state, attachment."""
    attached = v.get("attached_machine_id")
    where = f"attached to machine {attached}" if attached else "not attached"
    return (
        f"{v.get('id', '?')} {v.get('name', '')} {v.get('size_gb', '?')}GB "
        f"{v.get('region', '?')} {v.get('state', '?')} {where}"
    )


def _size(guest: Mapping[str, Any]) -> str:
    if not guest:
        return ""
    return (
        f"{guest.get('cpu_kind', 'shared')}-{guest.get('cpus', 1)}x/{guest.get('memory_mb', '?')}MB"
    )


def _image_ref(m: Mapping[str, Any]) -> str:
    ref = m.get("image_ref") or {}
    if not ref.get("repository"):
        return "?"
    return f"{ref.get('registry', '')}/{ref['repository']}:{ref.get('tag', '')}".lstrip("/")


def _short_image(image: str) -> str:
    return image if len(image) <= 60 else image[:57] + "..."


def _checks(checks: Sequence[Mapping[str, Any]]) -> str:
    if not checks:
        return ""
    passing = sum(1 for c in checks if c.get("status") == "passing")
    return f"{passing}/{len(checks)} passing"


def _service(s: Mapping[str, Any]) -> str:
    ports = ",".join(str(p.get("port")) for p in s.get("ports") or [] if p.get("port"))
    return f"{s.get('protocol', 'tcp')} {ports or '-'}->{s.get('internal_port')}"


# ---------------------------------------------------------------- lists


def _summarise_list(
    noun: str,
    rows: Sequence[Mapping[str, Any]],
    line: Callable[[Mapping[str, Any]], str],
    hint: str,
    *,
    by: Sequence[str] = ("state", "region"),
) -> str:
    plural = f"{noun}es" if noun.endswith("s") else f"{noun}s"
    if not rows:
        return f"No {plural} found."
    head = [f"{len(rows)} {plural if len(rows) != 1 else noun}."]
    if len(rows) > 3:
        for key in by:
            counts = Counter(str(r.get(key, "?")) for r in rows)
            head.append(f"By {key}: " + ", ".join(f"{k} {n}" for k, n in counts.most_common(12)))
    body = [line(r) for r in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        body.append(f"... {len(rows) - MAX_ROWS} more not shown. {hint}")
    return "\n".join(head + body)


def _render_apps(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    apps = (result or {}).get("apps") or []

    def line(a: Mapping[str, Any]) -> str:
        return f"{a.get('name')} {a.get('status', '?')} machines={a.get('machine_count', '?')}"

    return _summarise_list("app", apps, line, "Use fly_get_app for one app.", by=("status",))


def _render_machines(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    hint = "Narrow with state=[...] or region=..., or use fly_get_machine."
    return _summarise_list("machine", result or [], machine_line, hint)


def _render_volumes(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    rows = [v for v in result or [] if isinstance(v, Mapping)]
    live = [v for v in rows if v.get("state") not in BEING_DESTROYED]
    gone = [v for v in rows if v.get("state") in BEING_DESTROYED]
    text = _summarise_list("volume", live, volume_line, "Use fly_get_volume for one.")
    if not gone:
        return text
    shown = ", ".join(
        f"{v.get('id', '?')} {v.get('name', '')} ({v.get('state')})" for v in gone[:5]
    )
    more = f" and {len(gone) - 5} more" if len(gone) > 5 else ""
    return (
        f"{text}\n{len(gone)} deleted volume{'s' if len(gone) != 1 else ''} still being "
        f"destroyed (not usable; the delete succeeded, do not repeat it): {shown}{more}"
    )


def _render_secrets(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    secrets = (result or {}).get("secrets") or []

    def line(s: Mapping[str, Any]) -> str:
        return f"{s.get('name')} digest={s.get('digest', '?')} updated {s.get('updated_at', '?')}"

    return _summarise_list("secret", secrets, line, "", by=()) + "\n(values are never shown)"


def _render_events(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    def line(e: Mapping[str, Any]) -> str:
        return f"{iso_time(e.get('timestamp'))} {e.get('type', '?')} {e.get('status', '')} ({e.get('source', '?')})"

    return _summarise_list("event", result or [], line, "Pass limit to see fewer.", by=())


def _render_versions(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    def line(v: Mapping[str, Any]) -> str:
        image = (v.get("user_config") or {}).get("image", "?")
        return f"{v.get('version', '?')} image={_short_image(image)}"

    return _summarise_list("version", result or [], line, "", by=())


def _render_processes(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    def line(p: Mapping[str, Any]) -> str:
        return f"pid {p.get('pid')} cpu={p.get('cpu')} rss={p.get('rss')} {p.get('command', '')}"

    return _summarise_list("process", result or [], line, "Sort with sort_by.", by=())


# ---------------------------------------------------------------- one-off shapes


def _render_app(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    a = result or {}
    org = (a.get("organization") or {}).get("slug", "?")
    return (
        f"App {a.get('name')} status={a.get('status', '?')} org={org} "
        f"network={a.get('network', '?')} machines={a.get('machine_count', '?')} "
        f"volumes={a.get('volume_count', '?')}"
    )


def _render_created_app(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    app = getattr(args, "app_name", "?")
    return f"Created app {app} (id {(result or {}).get('id', '?')}). Add machines to it next."


def _render_machine(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    done = _done(endpoint, args)
    detail = machine_detail(result or {})
    return f"{done}.\n{detail}" if done else detail


def _render_volume(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    done = _done(endpoint, args)
    line = volume_line(result or {})
    return f"{done}: {line}" if done else f"Volume {line}"


def _render_extend(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    volume = (result or {}).get("volume") or {}
    text = f"Extended volume {volume_line(volume)}"
    if (result or {}).get("needs_restart"):
        text += "\nThe attached machine must restart to use the new space."
    return text


def _render_exec(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    if isinstance(result, str):
        return f"Command ran. Output:\n{_clip(result)}"
    r = result or {}
    text = f"Command exited with code {r.get('exit_code', '?')}."
    for stream in ("stdout", "stderr"):
        if r.get(stream):
            text += f"\n{stream}:\n{_clip(str(r[stream]))}"
    return text


def _render_wait(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    r = result or {}
    machine = getattr(args, "machine_id", "?")
    return (
        f"Machine {machine} reached state {r.get('state', '?')} (version {r.get('version', '?')})."
    )


def _render_lease(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    r = result or {}
    machine = getattr(args, "machine_id", "?")
    if endpoint.method == "DELETE":
        return f"Released the lease on machine {machine}."
    if "lease" in r and r["lease"] is None:
        return (
            f"No lease is held on machine {machine}: it can be changed without a lease nonce, "
            "or leased with fly_acquire_lease."
        )
    text = (
        f"Lease on machine {machine}: owner {r.get('owner', '?')}, expires {iso_time(r.get('expires_at'))}"
        f" ({r.get('description') or 'no description'})."
    )
    if endpoint.method == "POST" and r.get("nonce"):
        text += f" nonce={r['nonce']} — pass it as lease_nonce to change this machine."
    return text


def _render_secret_change(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    name = getattr(args, "secret_name", "?")
    version = (result or {}).get("version", "?")
    verb = "Deleted" if endpoint.method == "DELETE" else "Set"
    return (
        f"{verb} secret {name} (secrets version {version}). Machines pick it up on their "
        "next update or restart."
    )


def _render_oidc(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    # The JWT is a credential: it stays in the artifact, out of the conversation.
    aud = getattr(args, "aud", None) or "default"
    size = len(result) if isinstance(result, str) else 0
    return (
        f"Issued an OIDC token (JWT, {size} characters) for audience {aud}; it is in the artifact."
    )


def _render_action(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    # Fly answers once it has accepted the action; the machine may still be on its way.
    target = target_of(endpoint, args).phrase()
    if endpoint.phrase is not None:
        text = f"Fly accepted: {endpoint.phrase.says(target)}"
    else:
        text = f"Fly accepted the call of {endpoint.name} on {target}"
    if isinstance(result, Mapping) and result.get("previous_state"):
        text += f" (was {result['previous_state']})"
    then = endpoint.phrase.then if endpoint.phrase is not None else ""
    return f"{text}. {then}".strip()


WITHHELD = "[withheld]"
"""What stands in for a value an endpoint never lets out (:attr:`Endpoint.hidden`)."""


def withhold(endpoint: Endpoint, result: Any) -> Any:
    """``result`` with the values of the endpoint's hidden keys replaced, at any depth."""
    if not endpoint.hidden:
        return result
    if isinstance(result, Mapping):
        return {
            k: WITHHELD if k in endpoint.hidden and v is not None else withhold(endpoint, v)
            for k, v in result.items()
        }
    if isinstance(result, list):
        return [withhold(endpoint, item) for item in result]
    return result


def _pick(item: Mapping[str, Any], key: str) -> Any:
    value: Any = item
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _shown(value: Any) -> str:
    if _is_bytes(value):
        # Fly sends bytes as arrays of numbers: base64 (what the tools take back), in full.
        raw = bytes(value)
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            text = ""
        encoded = base64.b64encode(raw).decode()
        if text and text.isprintable():
            return f"{json.dumps(text, ensure_ascii=False)} (base64 {encoded})"
        return f"{encoded} (base64)"
    if isinstance(value, list):
        return (
            "["
            + ", ".join(_shown(v) for v in value[:8])
            + (", ..." if len(value) > 8 else "")
            + "]"
        )
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_shown(v)}" for k, v in list(value.items())[:8]) + "}"
    return str(value)


def _is_bytes(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 1
        and all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in value)
    )


def _fields(endpoint: Endpoint, item: Mapping[str, Any]) -> str:
    keys = endpoint.shows or tuple(k for k, v in item.items() if not isinstance(v, dict | list))
    parts = []
    for key in keys:
        value = _pick(item, key)
        if value is not None and value != "" and value != []:
            parts.append(f"{key}={_shown(value)}")
    return " ".join(parts)


def _render_item(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    noun = endpoint.noun or "result"
    if not isinstance(result, Mapping) or not result:
        return _render_empty(endpoint, args)
    done = _done(endpoint, args)
    lead = f"{done}. The {noun}" if done else noun.capitalize()
    return _clip(f"{lead}: {_fields(endpoint, result)}".strip())


def _render_items(endpoint: Endpoint, args: FlyArgs, result: Any) -> str:
    noun = endpoint.noun or "item"
    rows = (
        _pick(result, endpoint.rows_at)
        if endpoint.rows_at and isinstance(result, Mapping)
        else result
    )
    if not isinstance(rows, list):
        rows = []
    items = [r if isinstance(r, Mapping) else {"value": r} for r in rows]
    text = _summarise_list(
        noun,
        items,
        lambda r: _fields(endpoint, r),
        "Narrow the list with the tool's filters.",
        by=tuple(k for k in ("state", "status", "region") if k in endpoint.shows)[:2],
    )
    cursor = result.get("next_cursor") if isinstance(result, Mapping) else None
    if cursor:
        text += f"\nMore on the next page: call again with cursor={cursor!r}."
    return _clip(text)


def _render_empty(endpoint: Endpoint, args: FlyArgs) -> str:
    # A body-less answer (204): say what was done to what, from the call's own target.
    done = _done(endpoint, args)
    return f"{done}." if done else f"Nothing to show for {target_of(endpoint, args).phrase()}."


def _clip(text: str) -> str:
    return (
        text
        if len(text) <= MAX_TEXT
        else text[:MAX_TEXT] + f"\n... ({len(text)} characters in all)"
    )


def _done(endpoint: Endpoint, args: FlyArgs) -> str:
    """What a change did, from the record's own phrase (``Stopped machine 3d8d... in app
    web``); empty for a read. Never words parsed out of the tool name."""
    if endpoint.read_only:
        return ""
    target = target_of(endpoint, args).phrase()
    if endpoint.phrase is None:
        return f"Called {endpoint.name} on {target}"
    said = endpoint.phrase.says(target, past=True)
    return said[:1].upper() + said[1:]


RENDERERS: Mapping[ResultKind, Callable[[Endpoint, FlyArgs, Any], str]] = {
    "action": _render_action,
    "apps": _render_apps,
    "app": _render_app,
    "created_app": _render_created_app,
    "machines": _render_machines,
    "machine": _render_machine,
    "exec": _render_exec,
    "wait": _render_wait,
    "processes": _render_processes,
    "events": _render_events,
    "versions": _render_versions,
    "lease": _render_lease,
    "volumes": _render_volumes,
    "volume": _render_volume,
    "extend": _render_extend,
    "secrets": _render_secrets,
    "secret_change": _render_secret_change,
    "oidc": _render_oidc,
    "item": _render_item,
    "items": _render_items,
}
"""The wording of each :data:`~fly_tools.catalogue.ResultKind`; a record's ``result`` picks one."""
