"""One tool's arguments for a person: ``fly-tools call TOOL --help`` and ``tools --json``."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from fly_tools.catalogue import Endpoint
from fly_tools.risk import SCOPES

RISK_WORDS = {
    "read": "changes nothing",
    "write": "creates or changes something, undoable",
    "disruptive": "interrupts running work, loses nothing",
    "destructive": "cannot be undone; pauses for a human by default",
}


def argument_schema(endpoint: Endpoint, *, app_bound: bool = False) -> dict[str, Any]:
    """The JSON Schema of the tool's arguments; without ``app_name`` when ``--app`` binds it."""
    schema = endpoint.args_model.model_json_schema()
    if app_bound and "app_name" in schema.get("properties", {}):
        schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "app_name"}
        schema["required"] = [name for name in schema.get("required", []) if name != "app_name"]
    return schema


def tool_help(endpoint: Endpoint) -> str:
    """What ``fly-tools call TOOL --help`` prints: what the tool does, then each argument."""
    schema = argument_schema(endpoint)
    required = set(schema.get("required", []))
    tier = endpoint.risk.label
    lines = [
        f"usage: fly-tools call {endpoint.name} [--args JSON] [options]",
        "",
        endpoint.description,
        f"Tier: {tier} ({RISK_WORDS.get(tier, tier)}). Group: {endpoint.group}. "
        f"Scopes: {', '.join(s for s in SCOPES if s in endpoint.scopes)}.",
        "",
    ]
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        lines.append("It takes no arguments.")
    else:
        lines.append("Arguments (a JSON object in --args; --app gives app_name):")
        for name, field in properties.items():
            lines.extend(_argument_lines(name, field, name in required, schema))
        lines += ["", f"Example: {_example_command(endpoint, schema)}"]
    lines.append("`fly-tools call --help` lists the options (scope, app, approval, audit).")
    return "\n".join(lines)


def _argument_lines(
    name: str, field: dict[str, Any], required: bool, root: dict[str, Any]
) -> list[str]:
    kind = type_of(field, root)
    if required:
        kind += ", required"
    elif "default" in field:
        kind += f", default {json.dumps(field['default'])}"
    head = f"  {name}: {kind}"
    description = field.get("description")
    if not description:
        return [head]
    return [
        head,
        *textwrap.wrap(description, width=88, initial_indent="      ", subsequent_indent="      "),
    ]


def type_of(field: dict[str, Any], root: dict[str, Any]) -> str:
    """A JSON Schema type in words: ``integer 1..600``, ``one of 'a', 'b'``, ``list of string``."""
    if "$ref" in field:
        name = field["$ref"].rsplit("/", 1)[-1]
        return f"object ({name})"
    if "anyOf" in field:
        options = [option for option in field["anyOf"] if option.get("type") != "null"]
        if len(options) == 2 and options[1].get("items") == options[0]:
            return f"{type_of(options[0], root)}, or a list of them"  # one value or several
        return " or ".join(type_of(option, root) for option in options)
    if "enum" in field:
        return "one of " + ", ".join(json.dumps(value) for value in field["enum"])
    if "const" in field:
        return json.dumps(field["const"])
    kind = str(field.get("type", "any value"))
    if kind == "array":
        return "list of " + type_of(field.get("items", {}), root)
    if kind == "object" and isinstance(field.get("additionalProperties"), dict):
        return "object of " + type_of(field["additionalProperties"], root)
    low, high = field.get("minimum"), field.get("maximum")
    if low is not None and high is not None:
        return f"{kind} {low}..{high}"
    if low is not None:
        return f"{kind} >= {low}"
    return kind if high is None else f"{kind} <= {high}"


def _example_command(endpoint: Endpoint, schema: dict[str, Any]) -> str:
    """A ``fly-tools call`` line for the fake's demo world, with the required arguments."""
    words = ["fly-tools", "call", endpoint.name]
    if "readonly" not in endpoint.scopes:
        words += [
            "--scope",
            next(s for s in ("deploy", "org", "machine-exec") if s in endpoint.scopes),
        ]
    if "app_name" in schema.get("required", []):
        words += ["--app", "web"]
    arguments = _example(schema)
    if arguments != "{}":
        words += ["--args", f"'{arguments}'"]
    return " ".join(words)


def _example(schema: dict[str, Any]) -> str:
    """A JSON object with the required arguments (other than the app, given by --app)."""
    samples = {"string": "...", "integer": 1, "number": 1, "boolean": True, "array": []}
    example: dict[str, Any] = {}
    for name in schema.get("required", []):
        if name == "app_name":
            continue
        field = schema["properties"].get(name, {})
        value = field["enum"][0] if "enum" in field else samples.get(field.get("type"), "...")
        example[name] = value
    return json.dumps(example)
