"""The base of every argument model: wire mapping, lean schemas, and the shared identifier fields."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from fly_tools.models.identifiers import AppName, LeaseNonce, MachineId

APP = "Fly app name, e.g. 'web'."
MACHINE = "Machine id, e.g. '3d8d9015b23489' (from fly_list_machines)."
VOLUME = "Volume id, e.g. 'vol_abc123' (from fly_list_volumes)."
NONCE = "Lease nonce, only if the machine is leased (from fly_acquire_lease)."


def lean_schema(schema: dict[str, Any]) -> None:
    """Show each optional field as its type alone (used as ``json_schema_extra``)."""
    # An optional field is shown as its type alone: the model may leave it out, and
    # "anyOf [T, null], default null" costs tokens in every tool definition sent.
    for prop in schema.get("properties", {}).values():
        options = prop.get("anyOf")
        nullable = options and len(options) == 2 and {"type": "null"} in options
        if nullable and "default" in prop and prop["default"] is None:
            del prop["anyOf"], prop["default"]
            prop.update(next(o for o in options if o != {"type": "null"}))


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
    app_name: AppName = Field(description=APP)


class MachineArgs(AppArgs):
    machine_id: MachineId = Field(description=MACHINE)


class LeasedMachineArgs(MachineArgs):
    lease_nonce: LeaseNonce | None = Field(default=None, description=NONCE)
