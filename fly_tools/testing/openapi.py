"""Checks the fake's responses against Fly's OpenAPI spec (jsonschema, imported lazily).

The spec is OpenAPI 3.0: its component schemas become JSON Schema ``$defs`` (``$ref``
rewritten, ``nullable`` turned into a null alternative). A response is checked against
the schema its operation declares for that status and content type. Beyond the spec:

- error bodies (4xx/5xx JSON) must be Fly's ``ErrorResponse`` with an ``error`` text;
- a success status the operation does not declare is a problem;
- where real Fly answers differently from the spec (ENDPOINTS.md D1, D7, D13), the
  real shape is checked instead (:data:`REAL_FLY_RESPONSES`);
- ``strict`` mode refuses properties a component schema does not name, except the
  newer spec revision's additions (:data:`NEWER_SPEC_FIELDS`);
- a few string properties may be ``null``, as Fly sends them (:data:`NULL_ON_THE_WIRE`);
- where Fly's Go encoder writes something else than the spec, either form passes
  (:data:`GO_SHAPES`; a ``[]byte`` as base64 text, :data:`GO_BYTES`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent.parent / "spec" / "fly-machines-openapi.json"
JSON = "application/json"

NEWER_SPEC_FIELDS: dict[str, frozenset[str]] = {
    "Machine": frozenset({"version", "cordoned", "host_features", "lease"}),
    "App": frozenset({"network_cidr"}),
    "Volume": frozenset({"host_features", "required_host_features"}),
    "fly.MachineConfig": frozenset({"spot"}),
    "fly.MachineGuest": frozenset({"required_host_features"}),
    "fly.MachineMount": frozenset({"add_size_percent", "min_add_size_gb"}),
}
"""Properties the later spec revision adds, accepted in strict mode."""
NULL_ON_THE_WIRE: dict[str, frozenset[str]] = {
    "Volume": frozenset({"attached_machine_id", "attached_alloc_id"}),
    # fly-go volume_types.go:16-17, *string without omitempty (ENDPOINTS.md, Go-shaped answers).
    "OrgVolume": frozenset({"attached_machine_id", "attached_alloc_id"}),
}
"""Properties the spec types as strings that Fly sends as ``null`` when unset."""
NEWER_SPEC_ENUMS: dict[str, tuple[str, ...]] = {
    "main.statusCode": ("volume_placement_capacity", "name_taken"),
}
"""Enum values the later spec revision adds."""
GO_SHAPES: dict[str, dict[str, Any]] = {
    # superfly/macaroon caveat_set.go, CaveatSet.MarshalJSON: a bare array of {type, body}.
    "macaroon.CaveatSet": {
        "type": "array",
        "items": {"type": "object", "required": ["type", "body"]},
    },
}
"""Component shapes Fly's Go encoder writes where the spec says otherwise (ENDPOINTS.md,
"Go-shaped answers"); either form is accepted, as the fake can answer in both."""
SPEC_BYTES = {"type": "array", "items": {"type": "integer"}}
"""How the spec types a Go ``[]byte``."""
GO_BYTES = {"type": "string", "pattern": r"^[A-Za-z0-9+/]*={0,2}$"}
"""How Go's encoder writes a ``[]byte``: standard base64 (encoding/json, ``[]byte``)."""


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status", "data"],
        "properties": {"status": {"const": "success"}, "data": data},
    }


REAL_FLY_RESPONSES: dict[tuple[str, int], dict[str, Any]] = {
    # D1: {id, created_at (ms)} rather than the spec's stale {token}.
    ("Apps_create", 201): {
        "type": "object",
        "required": ["id", "created_at"],
        "properties": {"id": {"type": "string"}, "created_at": {"type": "integer"}},
    },
    # D7: leases travel in a {status, data} envelope.
    ("Machines_create_lease", 201): _envelope({"$ref": "#/$defs/Lease"}),
    ("Machines_show_lease", 200): _envelope({"$ref": "#/$defs/Lease"}),
    ("Machines_release_lease", 200): _envelope(
        {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    ),
    # D13: a bare JWT as text/plain.
    ("Tokens_request_OIDC", 200): {"type": "string", "pattern": r"^[\w-]+\.[\w-]+\.[\w-]+$"},
}
"""Shapes real Fly answers with where the spec says otherwise, by (operationId, status)."""

ERROR_RESPONSE = {"allOf": [{"$ref": "#/$defs/ErrorResponse"}, {"required": ["error"]}]}


class SpecChecker:
    """Validates responses against the spec's operations.

    Args:
        spec_path: the OpenAPI document.
        strict: refuse properties the spec's component schemas do not name.
    """

    def __init__(self, spec_path: Path = SPEC_PATH, *, strict: bool = True) -> None:
        spec = json.loads(spec_path.read_text())
        self._operations = {
            op["operationId"]: op
            for item in spec["paths"].values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }
        self._defs = to_json_schema_defs(spec["components"]["schemas"], strict=strict)
        self._validators: dict[tuple[str | None, int, str], Any] = {}
        self.found: list[str] = []
        """Every problem reported so far, oldest first."""

    def problems(
        self, operation_id: str | None, status: int, content_type: str, body: bytes
    ) -> list[str]:
        """What is wrong with one response; empty when it conforms."""
        where = f"{operation_id or 'unknown route'} -> {status}"
        media = content_type.split(";")[0].strip()
        schema, problem = self._expected(operation_id, status, media)
        if problem:
            self.found.append(f"{where}: {problem}")
            return [f"{where}: {problem}"]
        if schema is None:
            return []
        try:
            instance = json.loads(body) if media == JSON else body.decode()
        except ValueError as error:
            self.found.append(f"{where}: body is not valid {media}: {error}")
            return self.found[-1:]
        key = (operation_id, status, media) if status < 400 else ("error", 0, media)
        validator = self._validator(key, schema)
        found = [f"{where}: {e.json_path}: {e.message}" for e in validator.iter_errors(instance)]
        self.found.extend(found)
        return found

    def _expected(
        self, operation_id: str | None, status: int, media: str
    ) -> tuple[dict[str, Any] | None, str | None]:
        if status >= 400:
            return (ERROR_RESPONSE, None) if media == JSON else (None, "error body is not JSON")
        if operation_id is None:
            return None, "success status for an unknown route"
        if (operation_id, status) in REAL_FLY_RESPONSES:
            return REAL_FLY_RESPONSES[(operation_id, status)], None
        declared = self._operations[operation_id]["responses"].get(str(status))
        if declared is None:
            return None, f"status {status} is not declared by the spec"
        content = declared.get("content") or {}
        if not content:
            return None, None
        if media not in content:
            return None, f"content type {media or 'none'} not declared ({', '.join(content)})"
        return _convert(content[media].get("schema")), None

    def _validator(self, key: tuple[str | None, int, str], schema: dict[str, Any]) -> Any:
        if key not in self._validators:
            from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

            self._validators[key] = Draft202012Validator({**schema, "$defs": self._defs})
        return self._validators[key]


def to_json_schema_defs(components: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """OpenAPI 3.0 component schemas as JSON Schema ``$defs``."""
    defs = {name: _convert(schema) for name, schema in components.items()}
    for name, values in NEWER_SPEC_ENUMS.items():
        defs[name] = {**defs[name], "enum": [*defs[name]["enum"], *values]}
    for name, go_shape in GO_SHAPES.items():
        if name in defs:
            defs[name] = {"anyOf": [go_shape, defs[name]]}
    for schema in defs.values():
        properties = schema.get("properties", {})
        for field, typed in properties.items():
            if typed == SPEC_BYTES:
                properties[field] = {"anyOf": [SPEC_BYTES, GO_BYTES]}
    for name, fields in NULL_ON_THE_WIRE.items():
        if name not in defs:
            continue
        properties = dict(defs[name]["properties"])
        for field in fields:
            properties[field] = {"anyOf": [properties[field], {"type": "null"}]}
        defs[name] = {**defs[name], "properties": properties}
    if strict:
        for name, schema in defs.items():
            schema = schema["anyOf"][1] if name in GO_SHAPES and "anyOf" in schema else schema
            if "properties" in schema and "additionalProperties" not in schema:
                extra: dict[str, Any] = {field: {} for field in NEWER_SPEC_FIELDS.get(name, ())}
                schema["properties"] = {**schema["properties"], **extra}
                schema["additionalProperties"] = False
    return defs


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            converted[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key == "properties":
            converted[key] = {name: _convert(schema) for name, schema in value.items()}
        elif key not in ("nullable", "example", "discriminator", "xml") and not key.startswith(
            "x-"
        ):
            converted[key] = _convert(value)
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def default_checker() -> SpecChecker:
    """One strict checker for the bundled spec, shared (building it parses the spec)."""
    return SpecChecker()
