"""The base of every argument model: wire mapping, lean schemas, and the shared identifier fields."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.fields import FieldInfo

from fly_tools.models.fields import PATH_MAX
from fly_tools.models.identifiers import AppName, LeaseNonce, MachineId

# Written for the model reading the tool schema: each is sent in every tool that has the
# field, so only what the field's name and type do not already say.
APP = "Fly app."
MACHINE = "From fly_list_machines."
VOLUME = "From fly_list_volumes."
NONCE = "Only if leased."
OBVIOUS: dict[str, Any] = {"x-obvious": True}
"""``json_schema_extra`` for a field whose name and type say all a model needs: the
description stays in the argument model (docs, errors); the model-facing schema drops it."""


def lean_schema(schema: dict[str, Any]) -> None:
    """Show each optional field as its type alone (used as ``json_schema_extra``)."""
    # An optional field is shown as its type alone: the model may leave it out, and
    # "anyOf [T, null], default null" costs tokens in every tool definition sent.
    for prop in schema.get("properties", {}).values():
        prop.pop("x-obvious", None)
        options = prop.get("anyOf")
        nullable = options and len(options) == 2 and {"type": "null"} in options
        if nullable and "default" in prop and prop["default"] is None:
            del prop["anyOf"], prop["default"]
            prop.update(next(o for o in options if o != {"type": "null"}))


def is_obvious(field: FieldInfo) -> bool:
    """Whether ``field`` is marked :data:`OBVIOUS` (its description is left out for models)."""
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get("x-obvious") is True


def tool_call_schema_extra(schema: dict[str, Any]) -> None:
    """The schema a chat model reads: :func:`lean_schema`, then nothing it does not need.

    Only for the model-facing schema (``FlyTool.tool_call_schema``); arguments are still
    validated by the full model. Kept: types, enums, limits and patterns (they stop invalid
    calls before they are made), required fields, descriptions, defaults that say what
    happens when a field is left out. Dropped: titles, ``default: false`` (leaving a
    switch out already means off), ``additionalProperties: true`` (JSON Schema's own
    default), path-length limits no model comes near, a secret's ``format: password``
    (its description says it is never echoed), and the list form of a "one or a list"
    field, whose description says so.
    """
    lean_schema(schema)
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        if prop.get("default") is False:
            del prop["default"]
        if prop.get("additionalProperties") is True:
            del prop["additionalProperties"]
        if prop.get("maxLength", 0) >= PATH_MAX:
            del prop["maxLength"]
        if prop.pop("writeOnly", None) is True:
            prop.pop("format", None)
        options = prop.get("anyOf")
        if options and len(options) == 2 and {"type": "array", "items": options[0]} in options:
            del prop["anyOf"]
            prop.update(options[0])


class FlyArgs(BaseModel):
    """Base of every endpoint's arguments.

    Subclasses list their query-string fields in ``query_fields``; fields that are neither
    path, query nor ``lease_nonce`` form the JSON body when ``sends_body`` is true.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=lean_schema)

    query_fields: ClassVar[tuple[str, ...]] = ()
    sends_body: ClassVar[bool] = False

    def query_params(self) -> list[tuple[str, str]]:
        """Query parameters in wire form; lists become repeated parameters."""
        params: list[tuple[str, str]] = []
        for name in self.query_fields:
            value = getattr(self, name)
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                params.append((name, _query_text(item)))
        return params

    def json_body(self, path_fields: frozenset[str]) -> Any:
        """The JSON body, or ``None`` when the endpoint sends none."""
        if not self.sends_body:
            return None
        skip = set(path_fields) | set(self.query_fields) | {"lease_nonce"}
        return {
            name: _wire(value) for name, value in self if name not in skip and value is not None
        }

    def lease_nonce_header(self) -> str | None:
        """The value for ``fly-machine-lease-nonce``, if this call carries one."""
        nonce = getattr(self, "lease_nonce", None)
        return nonce if isinstance(nonce, str) else None


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wire(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value


class AppArgs(FlyArgs):
    app_name: AppName = Field(description=APP, json_schema_extra=OBVIOUS)


class MachineArgs(AppArgs):
    machine_id: MachineId = Field(description=MACHINE)


class LeasedMachineArgs(MachineArgs):
    lease_nonce: LeaseNonce | None = Field(
        default=None, description=NONCE, json_schema_extra=OBVIOUS
    )
