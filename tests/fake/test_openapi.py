"""The spec checker itself: it must catch responses that do not match Fly's spec."""

from __future__ import annotations

import json

import pytest

from fly_tools.testing.openapi import SpecChecker, to_json_schema_defs

JSON = "application/json"


@pytest.fixture(scope="module")
def checker() -> SpecChecker:
    return SpecChecker()


def body(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    ("operation", "status", "content_type", "payload", "problem"),
    [
        ("Machines_show", 200, JSON, {"id": 5}, "5 is not of type 'string'"),
        ("Machines_show", 200, JSON, {"id": "x", "colour": "red"}, "'colour' was unexpected"),
        ("Machines_show", 201, JSON, {"id": "x"}, "status 201 is not declared"),
        ("Machines_show", 404, JSON, {"message": "gone"}, "'error' is a required property"),
        ("Machines_show", 404, "text/plain", "gone", "error body is not JSON"),
        ("Machines_create_lease", 201, JSON, {"nonce": "abc"}, "'status' is a required property"),
        ("Tokens_request_OIDC", 200, "text/plain", "not-a-jwt", "does not match"),
        ("Machines_list", 200, JSON, {"machines": []}, "is not of type 'array'"),
        ("Volumes_list", 200, "text/plain", "[]", "content type text/plain not declared"),
        (None, 200, JSON, {}, "unknown route"),
    ],
)
def test_mismatches_are_reported(
    checker: SpecChecker,
    operation: str | None,
    status: int,
    content_type: str,
    payload: object,
    problem: str,
) -> None:
    raw = payload.encode() if isinstance(payload, str) else body(payload)
    found = checker.problems(operation, status, content_type, raw)
    assert any(problem in line for line in found), found
    assert checker.found[-len(found) :] == found


def test_conforming_answers_pass(checker: SpecChecker) -> None:
    lease = {"status": "success", "data": {"nonce": "n", "expires_at": 1, "owner": "o"}}
    assert checker.problems("Machines_create_lease", 201, JSON, body(lease)) == []
    assert checker.problems("Apps_delete", 202, "", b"") == []
    assert checker.problems("Machines_start", 200, JSON, body({"previous_state": "x"})) == []
    error = {"error": "name taken", "status": "name_taken"}  # newer spec's category
    assert checker.problems("Apps_create", 422, JSON, body(error)) == []


def test_newer_spec_fields_are_allowed_in_strict_mode(checker: SpecChecker) -> None:
    machine = {"id": "x", "version": "01ABC", "config": {"image": "x", "spot": {}}}
    assert checker.problems("Machines_show", 200, JSON, body(machine)) == []


def test_lax_mode_allows_unknown_properties() -> None:
    lax = SpecChecker(strict=False)
    assert lax.problems("Machines_show", 200, JSON, body({"colour": "red"})) == []


def test_openapi_nullable_and_refs_become_json_schema() -> None:
    defs = to_json_schema_defs(
        {
            "Thing": {"type": "object", "properties": {"n": {"type": "integer", "nullable": True}}},
            "Box": {
                "type": "object",
                "properties": {"thing": {"$ref": "#/components/schemas/Thing"}},
            },
            "main.statusCode": {"type": "string", "enum": ["unknown"]},
            "Volume": {
                "type": "object",
                "properties": {
                    "attached_machine_id": {"type": "string"},
                    "attached_alloc_id": {"type": "string"},
                },
            },
        },
        strict=True,
    )
    assert defs["Thing"]["properties"]["n"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert defs["Box"]["properties"]["thing"] == {"$ref": "#/$defs/Thing"}
    assert defs["Box"]["additionalProperties"] is False
    assert "name_taken" in defs["main.statusCode"]["enum"]
    attached = defs["Volume"]["properties"]["attached_machine_id"]
    assert attached == {"anyOf": [{"type": "string"}, {"type": "null"}]}  # Fly sends null
