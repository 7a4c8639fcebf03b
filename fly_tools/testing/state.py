"""The fake's world apart from HTTP: orgs, apps, machines, volumes, secrets, and Fly's rules.

An app and its typed areas are :class:`~fly_tools.testing.apps.App`; here are the
rules that need the whole world (ids, the clock, other apps) or cross areas.

Every method works on the fake's clock and raises :mod:`fly_tools.testing.errors`
exceptions that already carry Fly's status; nothing here knows about requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import TypeAdapter

from fly_tools.models.config import MachineConfig
from fly_tools.models.identifiers import AppName, SecretName
from fly_tools.testing.apps import App, Org, Secret
from fly_tools.testing.clock import FakeClock
from fly_tools.testing.errors import (
    FakeBadRequestError,
    FakeConflictError,
    FakeNotFoundError,
    FakeUnprocessableError,
    require_valid,
)
from fly_tools.testing.ids import IdSource
from fly_tools.testing.machines import DURATION, Machine, Step
from fly_tools.testing.secretkeys import SecretKey
from fly_tools.testing.volumes import MAX_SIZE_GB, Volume

APP_READY_DELAY = 2.0
"""Fake seconds a new app takes before Fly serves it (flyctl retries for up to a minute)."""
DEFAULT_GUEST = {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}
_APP_NAME = TypeAdapter(AppName)
_SECRET_NAME = TypeAdapter(SecretName)
Shapes = Literal["go", "spec"]
"""How the fake encodes answers where Fly's Go server and the OpenAPI spec differ."""


def app_not_found(name: str) -> FakeNotFoundError:
    """The answer for an app that does not exist, is not served yet, or is out of an
    app-bound token's reach (alike, so such a token cannot probe its org's app names)."""
    return FakeNotFoundError(f"app {name!r} not found, or the token's scope cannot reach it")


class FakeState:
    """Orgs, apps and everything in them, on the fake's clock.

    Args:
        clock: the fake's clock.
        ids: where new ids come from.
        app_ready_delay: fake seconds between creating an app and Fly serving it.
        shapes: ``"go"`` answers as Fly's Go server encodes (the default), ``"spec"`` as
            the OpenAPI spec describes, where the two differ (ENDPOINTS.md, "Go-shaped
            answers").
    """

    def __init__(
        self,
        clock: FakeClock,
        ids: IdSource,
        *,
        app_ready_delay: float = APP_READY_DELAY,
        shapes: Shapes = "go",
    ) -> None:
        if shapes not in ("go", "spec"):
            raise ValueError(f"shapes must be 'go' or 'spec', not {shapes!r}")
        self.shapes: Shapes = shapes
        self.clock = clock
        self.ids = ids
        self.app_ready_delay = app_ready_delay
        self.orgs: dict[str, Org] = {}
        self.apps: dict[str, App] = {}
        self.dns_txt: dict[str, str] = {}
        """The world's DNS TXT records, name -> value (as a domain's owner sets them)."""

    def now(self) -> float:
        """The fake's current time."""
        return self.clock.now()

    # ------------------------------------------------------------ orgs and apps

    def add_org(self, slug: str, name: str) -> Org:
        """Create an organization (orgs are made by :class:`FakeFly`, not by the API)."""
        return self.orgs.setdefault(slug, Org(slug, name, self.ids.number(10_000, 99_999)))

    def app(self, name: str) -> App:
        """The app called ``name``, once it is served."""
        app = self.apps.get(name)
        if app is None or self.now() < app.ready_at:
            raise app_not_found(name)
        return app

    def create_app(self, name: str, org_slug: str, *, network: str | None = None) -> App:
        """Create an empty app; names are unique across every org."""
        require_valid(_APP_NAME, name)
        if name in self.apps:
            raise FakeUnprocessableError("Name has already been taken", category="name_taken")
        org = self.orgs.get(org_slug) or self.add_org(org_slug, org_slug)
        app = App(
            self.ids.app_id(),
            name,
            org,
            network or "default",
            self.now(),
            self.ids.number(100_000, 999_999),
        )
        self.apps[name] = app
        return app

    def delete_app(self, name: str) -> None:
        """Delete an app with its machines, volumes and secrets."""
        self.app(name)
        del self.apps[name]

    # ------------------------------------------------------------ machines

    def machine(self, app_name: str, machine_id: str) -> Machine:
        """A machine of ``app_name``, settled to now."""
        machine = self.app(app_name).machines.get(machine_id)
        if machine is None:
            raise FakeNotFoundError(f"machine {machine_id} not found")
        machine.settle(self.now())
        return machine

    def live_machine(self, app_name: str, machine_id: str) -> Machine:
        """A machine that is not destroyed: changing a destroyed one is a 404 on Fly."""
        machine = self.machine(app_name, machine_id)
        if machine.destroyed:
            raise FakeNotFoundError(f"machine {machine_id} not found")
        return machine

    def machines(self, app_name: str, *, include_deleted: bool = False) -> list[Machine]:
        """The app's machines, oldest first, settled to now."""
        machines = list(self.app(app_name).machines.values())
        for machine in machines:
            machine.settle(self.now())
        return [m for m in machines if include_deleted or not m.destroyed]

    def create_machine(
        self,
        app_name: str,
        config: MachineConfig,
        *,
        name: str | None = None,
        region: str | None = None,
        skip_launch: bool = False,
        machine_id: str | None = None,
    ) -> Machine:
        """Create a machine; it starts unless ``skip_launch``."""
        app, now = self.app(app_name), self.now()
        wire = self._config(app, config)
        region = self._check_mounts(app, wire, region) or region or app.primary_region
        machine = Machine(
            id=machine_id or self.ids.machine_id(),
            name=name or self.ids.machine_name(),
            app=app.name,
            region=region,
            private_ip=self.ids.private_ip(app.org.internal_numeric_id),
            created_at=now,
            ids=self.ids,
            updated_at=now,
        )
        machine.add_version(wire, now)
        machine.record("launch", "created", "user", now)
        if not skip_launch:
            started = now + DURATION["starting"]
            machine.steps.extend(
                [Step(now, "starting", "start"), Step(started, "started", "start")]
            )
        app.machines[machine.id] = machine
        self._attach(app, machine)
        return machine

    def update_machine(
        self,
        app_name: str,
        machine_id: str,
        config: MachineConfig,
        *,
        current_version: str | None = None,
        skip_launch: bool = False,
    ) -> Machine:
        """Replace a machine's whole config with a new version."""
        app, machine = self.app(app_name), self.live_machine(app_name, machine_id)
        if current_version is not None and current_version != machine.version:
            raise FakeConflictError(
                f"machine version mismatch: the machine is at version {machine.version}, "
                f"the update was for version {current_version}"
            )
        wire = self._config(app, config)
        self._check_mounts(app, wire, machine.region, attaching=machine.id)
        self._detach(app, machine)
        machine.update(self.now(), wire, skip_launch=skip_launch)
        self._attach(app, machine)
        return machine

    def destroy_machine(self, app_name: str, machine_id: str, *, force: bool) -> None:
        """Destroy a machine and free its volume."""
        app, machine = self.app(app_name), self.live_machine(app_name, machine_id)
        machine.destroy(self.now(), force=force)
        self._detach(app, machine)

    def _config(self, app: App, config: MachineConfig) -> dict[str, Any]:
        wire = config.to_wire()
        if "guest" not in wire and "size" not in wire:
            wire["guest"] = dict(DEFAULT_GUEST)
        for mount in wire.get("mounts") or []:
            volume = app.volumes.get(mount["volume"])
            if volume is None or volume.deleted:
                raise FakeBadRequestError(
                    f"volume {mount['volume']} does not exist in app {app.name}"
                )
            mount |= {"name": volume.name, "size_gb": volume.size_gb, "encrypted": volume.encrypted}
        return wire

    def _check_mounts(
        self, app: App, wire: dict[str, Any], region: str | None, attaching: str | None = None
    ) -> str | None:
        """Refuse mounts Fly refuses; answer the mounted volume's region, if any.

        A machine can mount only a volume that is free (or already its own) and that
        lives in the machine's region.
        """
        for mount in wire.get("mounts") or []:
            volume = app.volumes[mount["volume"]]
            if volume.attached_machine_id not in (None, attaching):
                raise FakeBadRequestError(
                    f"volume {volume.id} is already attached to machine "
                    f"{volume.attached_machine_id}"
                )
            if region is not None and region != volume.region:
                raise FakeBadRequestError(
                    f"volume {volume.id} is in region {volume.region}, the machine in {region}: "
                    "a machine can only mount a volume in its own region"
                )
            return volume.region
        return None

    def _attach(self, app: App, machine: Machine) -> None:
        for mount in machine.config.get("mounts") or []:
            app.volumes[mount["volume"]].attached_machine_id = machine.id

    def _detach(self, app: App, machine: Machine) -> None:
        for volume in app.volumes.values():
            if volume.attached_machine_id == machine.id:
                volume.attached_machine_id = None

    # ------------------------------------------------------------ volumes

    def volume(self, app_name: str, volume_id: str) -> Volume:
        """A volume of ``app_name``, deleted ones included while they linger."""
        volume = next((v for v in self.volumes(app_name) if v.id == volume_id), None)
        if volume is None:
            raise FakeNotFoundError(f"volume {volume_id} not found")
        return volume

    def live_volume(self, app_name: str, volume_id: str) -> Volume:
        """A volume that is not deleted: changing a deleted one is a 404."""
        volume = self.volume(app_name, volume_id)
        if volume.deleted:
            raise FakeNotFoundError(f"volume {volume_id} not found (it is {volume.state})")
        return volume

    def volumes(self, app_name: str) -> list[Volume]:
        """The app's volumes, settled to now; deleted ones linger in their destroy states."""
        app, now = self.app(app_name), self.now()
        for volume in list(app.volumes.values()):
            volume.settle(now)
            if volume.gone(now):
                del app.volumes[volume.id]
        return list(app.volumes.values())

    def create_volume(
        self,
        app_name: str,
        name: str,
        *,
        region: str | None = None,
        size_gb: int = 3,
        source_volume_id: str | None = None,
        volume_id: str | None = None,
        **settings: Any,
    ) -> Volume:
        """Create a volume (or fork ``source_volume_id``) in a region."""
        app = self.app(app_name)
        if source_volume_id is not None:
            source = self.live_volume(app_name, source_volume_id)
            region, size_gb = region or source.region, max(size_gb, source.size_gb)
        _check_size(size_gb)
        volume = Volume(
            id=volume_id or self.ids.volume_id(),
            name=name,
            app=app.name,
            region=region or app.primary_region,
            zone=self.ids.zone(),
            size_gb=size_gb,
            created_at=self.now(),
            **settings,
        )
        app.volumes[volume.id] = volume
        return volume

    def extend_volume(self, app_name: str, volume_id: str, size_gb: int) -> tuple[Volume, bool]:
        """Grow a volume to ``size_gb`` in total; answer whether its machine must restart."""
        app, volume = self.app(app_name), self.live_volume(app_name, volume_id)
        if size_gb <= volume.size_gb:
            raise FakeBadRequestError(
                f"size_gb must be greater than the volume's current {volume.size_gb} GB: "
                "volumes can only grow"
            )
        _check_size(size_gb)
        volume.size_gb = size_gb
        machine = app.machines.get(volume.attached_machine_id or "")
        return volume, machine is not None and machine.state == "started"

    def delete_volume(self, app_name: str, volume_id: str) -> Volume:
        """Delete a detached volume: it lingers in its destroy states for a while."""
        volume = self.live_volume(app_name, volume_id)
        if volume.attached_machine_id is not None:
            raise FakeBadRequestError(
                f"volume {volume_id} is attached to machine {volume.attached_machine_id}: "
                "destroy that machine (or update it without the mount) first"
            )
        volume.delete(self.now())
        return volume

    # ------------------------------------------------------------ secrets

    def set_secret(self, app_name: str, name: str, value: str) -> tuple[Secret, int]:
        """Create or replace a secret; answer it and the app's new secrets version."""
        app, now = self.app(app_name), self.now()
        existing = app.secrets.get(name)
        created = existing.created_at if existing else now
        secret = app.secrets[name] = Secret(name, value, created, now)
        app.secrets_version += 1
        return secret, app.secrets_version

    def delete_secret(self, app_name: str, name: str) -> int:
        """Delete a secret; answer the app's new secrets version."""
        app = self.app(app_name)
        if app.secrets.pop(name, None) is None:
            raise FakeNotFoundError(f"secret {name} not found")
        app.secrets_version += 1
        return app.secrets_version

    def update_secrets(self, app_name: str, values: Mapping[str, str | None]) -> int:
        """Set (a string) and unset (``None``) several secrets at once, all checked before
        any changes; answer the app's secrets version."""
        app = self.app(app_name)
        for name, value in values.items():
            require_valid(_SECRET_NAME, name)
            if value == "" or (value is not None and "\x00" in value):
                raise FakeBadRequestError(f"the value of {name} must be non-empty, without NUL")
        for name, value in values.items():
            if value is not None:
                self.set_secret(app_name, name, value)
            elif name in app.secrets:  # unsetting a name that is not set changes nothing
                self.delete_secret(app_name, name)
        return app.secrets_version

    def set_secret_key(
        self, app_name: str, name: str, key_type: str, material: bytes
    ) -> tuple[SecretKey, int]:
        """Create or replace a secret key; answer it and the app's new secrets version."""
        app = self.app(app_name)
        key = app.secret_keys.put(name, key_type, material, self.now())
        app.secrets_version += 1
        return key, app.secrets_version

    def delete_secret_key(self, app_name: str, name: str) -> int:
        """Delete a secret key; answer the app's new secrets version."""
        app = self.app(app_name)
        app.secret_keys.remove(name)
        app.secrets_version += 1
        return app.secrets_version


def _check_size(size_gb: int) -> None:
    if not 1 <= size_gb <= MAX_SIZE_GB:
        raise FakeBadRequestError(f"size_gb must be between 1 and {MAX_SIZE_GB}; got {size_gb}")
