"""Checks the requests the tools send against Fly's OpenAPI spec: path, query, headers, body."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from fly_tools.testing.openapi import SPEC_PATH, to_json_schema_defs

API_PREFIX = "/v1"
_TRUTH = frozenset({"true", "false"})

DOCUMENTED_QUERY: dict[tuple[str, str], dict[str, Any]] = {
    # ENDPOINTS.md D1: Fly's prose documents DELETE /apps/{app}?force=true; the spec omits it.
    ("Apps_delete", "force"): {"type": "boolean"},
}
"""Query parameters real Fly takes where the spec is silent, by (operationId, name)."""

DOCUMENTED_BODY: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {
    # resset.Action is a uint16 in Go, hence the spec's integer enum; its JSON is the
    # letters "rwcdC" (MarshalJSON/UnmarshalJSON in superfly/macaroon resset/action.go).
    ("Tokens_authorize", ("access", "action")): {"type": "string", "pattern": "^[rwcdC]*$"},
    # ENDPOINTS.md "Secret values": fly-go's map[string]*string, a null unsets.
    ("Secrets_update", ("values", "*")): {"type": "null"},
}
"""Body values real Fly takes where the spec says otherwise, by (operationId, path);
``*`` stands for any one key."""


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, ready to match requests."""

    operation_id: str
    method: str
    template: str
    path_regex: re.Pattern[str]
    parameters: dict[tuple[str, str], dict[str, Any]]
    body_schema: dict[str, Any] | None
    body_required: bool


class RequestChecker:
    """Validates httpx requests against the bundled spec (unknown body fields refused)."""

    def __init__(self) -> None:
        spec = json.loads(SPEC_PATH.read_text())
        self._defs = to_json_schema_defs(spec["components"]["schemas"], strict=True)
        self.operations = [
            _operation(method.upper(), template, op)
            for template, item in spec["paths"].items()
            for method, op in item.items()
            if isinstance(op, dict) and "operationId" in op
        ]
        self._validators: dict[str, Draft202012Validator] = {}

    def match(self, request: httpx.Request) -> tuple[Operation, dict[str, str]] | None:
        """The operation a request calls, with its decoded path parameters."""
        path = request.url.raw_path.decode("ascii").partition("?")[0]
        if not path.startswith(API_PREFIX + "/"):
            return None
        for op in self.operations:
            found = op.path_regex.fullmatch(path[len(API_PREFIX) :])
            if found and op.method == request.method:
                return op, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def problems(self, request: httpx.Request) -> list[str]:
        """Everything about ``request`` the spec does not allow; empty when it conforms."""
        matched = self.match(request)
        where = f"{request.method} {request.url.raw_path.decode('ascii')}"
        if matched is None:
            return [f"{where}: no operation in the spec has this method and path"]
        op, path_values = matched
        found = [f"{where}: empty path parameter {k}" for k, v in path_values.items() if not v]
        found += self._query_problems(op, request)
        found += self._header_problems(op, request)
        found += self._body_problems(op, request)
        return [p if p.startswith(where) else f"{where} ({op.operation_id}): {p}" for p in found]

    def _query_problems(self, op: Operation, request: httpx.Request) -> list[str]:
        query = request.url.query.decode("ascii")
        pairs = parse_qsl(query, keep_blank_values=True)
        problems = []
        for name, value in pairs:
            schema = op.parameters.get((name, "query")) or DOCUMENTED_QUERY.get(
                (op.operation_id, name)
            )
            if schema is None:
                problems.append(f"query parameter {name!r} is not declared")
            elif not _scalar_conforms(schema, value):
                problems.append(f"query parameter {name}={value!r} does not match {schema}")
        sent = {name for name, _ in pairs}
        for (name, where), schema in op.parameters.items():
            if where == "query" and schema.get("required") and name not in sent:
                problems.append(f"required query parameter {name!r} missing")
        return problems

    def _header_problems(self, op: Operation, request: httpx.Request) -> list[str]:
        problems = []
        for (name, where), schema in op.parameters.items():
            if where != "header":
                continue
            if schema.get("required") and name not in request.headers:
                problems.append(f"required header {name!r} missing")
        return problems

    def _body_problems(self, op: Operation, request: httpx.Request) -> list[str]:
        content = request.content
        if op.body_schema is None:
            return [f"sends a body ({len(content)} bytes) but declares none"] if content else []
        if not content:
            return ["request body required but none sent"] if op.body_required else []
        media = request.headers.get("content-type", "").split(";")[0].strip()
        if media != "application/json":
            return [f"body content type {media!r}, expected application/json"]
        validator = self._validator(op)
        body = json.loads(content)
        return [
            f"body {e.json_path}: {e.message}"
            for e in validator.iter_errors(body)
            if not _documented(op.operation_id, [str(part) for part in e.absolute_path], e.instance)
        ]

    def _validator(self, op: Operation) -> Draft202012Validator:
        if op.operation_id not in self._validators:
            schema = {**(op.body_schema or {}), "$defs": self._defs}
            self._validators[op.operation_id] = Draft202012Validator(schema)
        return self._validators[op.operation_id]


def _documented(operation_id: str, path: list[str], value: Any) -> bool:
    """Whether ``value`` at ``path`` is a documented deviation from the spec."""
    for (op_id, pattern), schema in DOCUMENTED_BODY.items():
        if op_id != operation_id or len(pattern) != len(path):
            continue
        if all(want in ("*", got) for want, got in zip(pattern, path, strict=True)):
            return bool(Draft202012Validator(schema).is_valid(value))
    return False


def _operation(method: str, template: str, op: dict[str, Any]) -> Operation:
    pieces = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(piece) if n % 2 == 0 else f"(?P<{piece}>[^/]+)" for n, piece in enumerate(pieces)
    )
    parameters = {
        (p["name"], p["in"]): {**p.get("schema", {}), "required": p.get("required", False)}
        for p in op.get("parameters", [])
    }
    body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    schema = None
    if body is not None:
        ref = body["schema"]["$ref"].replace("#/components/schemas/", "#/$defs/")
        schema = {"$ref": ref}
    return Operation(
        operation_id=op["operationId"],
        method=method,
        template=template,
        path_regex=re.compile(regex + "/?"),
        parameters=parameters,
        body_schema=schema,
        body_required=bool((op.get("requestBody") or {}).get("required")),
    )


def _scalar_conforms(schema: dict[str, Any], value: str) -> bool:
    kind: str = schema.get("type", "string")
    if kind == "boolean":
        return value in _TRUTH
    if kind == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if "enum" in schema:
        return bool(value in schema["enum"])
    return kind == "string"


@cache
def request_checker() -> RequestChecker:
    """One checker for the bundled spec, shared across tests."""
    return RequestChecker()
