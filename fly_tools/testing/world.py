"""The demo world: org ``acme`` with apps ``web`` and ``worker``, under fixed ids.

Demos, notebooks and tests name things by these constants. The world is seeded
relative to the fake's clock: everything was created days before "now".

    acme (Acme Corp)
    ├── web      machines web-1 started ord (volume data at /data, http check passing),
    │            web-2 started ams, web-3 stopped ord; volumes data (10 GB, attached
    │            to web-1) and data_old (3 GB, loose); secrets DATABASE_URL, SESSION_SECRET
    └── worker   machines worker-1 started iad, worker-2 suspended iad,
                 worker-3 stopped fra; secret QUEUE_URL
"""

from __future__ import annotations

from typing import Any

from fly_tools.models.config import MachineConfig
from fly_tools.testing.machines import Machine, Version, exit_request
from fly_tools.testing.state import FakeState

ORG_SLUG = "acme"
ORG_NAME = "Acme Corp"
WEB_APP = "web"
WORKER_APP = "worker"
WEB_IMAGE = "registry.fly.io/web:v42"
WEB_PREVIOUS_IMAGE = "registry.fly.io/web:v41"
WORKER_IMAGE = "registry.fly.io/worker:v17"

WEB_1 = "3d8d9015b23489"
WEB_2 = "0af0330a562a5b"
WEB_3 = "bb97dfcec05ec2"
WORKER_1 = "1b78404e0332ae"
WORKER_2 = "192c17fde9ad27"
WORKER_3 = "fd425dd26d7ea8"
VOL_DATA = "vol_74h0650w23uvj7cn"
VOL_DATA_OLD = "vol_axx7q9eglqzwqihu"

MACHINES = {
    "web-1": WEB_1,
    "web-2": WEB_2,
    "web-3": WEB_3,
    "worker-1": WORKER_1,
    "worker-2": WORKER_2,
    "worker-3": WORKER_3,
}
"""Machine name -> id."""
WEB_SECRETS = ("DATABASE_URL", "SESSION_SECRET")
WORKER_SECRETS = ("QUEUE_URL",)

DAY = 86_400.0
GB = 1 << 30


HEALTH_CHECK: dict[str, Any] = {
    "type": "http",
    "port": 8080,
    "method": "GET",
    "path": "/healthz",
    "interval": "15s",
    "timeout": "2s",
    "grace_period": "5s",
}
"""web's HTTP health check."""


def web_config(image: str = WEB_IMAGE, *, volume: str | None = None) -> dict[str, Any]:
    """The web machines' config: shared 1 cpu 256 MB, HTTP service on 8080 with a check."""
    config: dict[str, Any] = {
        "image": image,
        "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256},
        "env": {"PORT": "8080", "PRIMARY_REGION": "ord"},
        "init": {"cmd": ["bin/server"]},
        "metadata": {"fly_process_group": "app", "fly_platform_version": "v2"},
        "restart": {"policy": "on-failure", "max_retries": 10},
        "services": [
            {
                "protocol": "tcp",
                "internal_port": 8080,
                "autostart": True,
                "autostop": "stop",
                "min_machines_running": 1,
                "ports": [
                    {"port": 80, "handlers": ["http"], "force_https": True},
                    {"port": 443, "handlers": ["tls", "http"]},
                ],
                "checks": [HEALTH_CHECK],
            }
        ],
    }
    if volume is not None:
        config["mounts"] = [{"volume": volume, "path": "/data"}]
    return config


def worker_config() -> dict[str, Any]:
    """The worker machines' config: no services, a queue consumer."""
    return {
        "image": WORKER_IMAGE,
        "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 512},
        "env": {"QUEUES": "default,mail"},
        "init": {"cmd": ["bin/worker"]},
        "metadata": {"fly_process_group": "worker", "fly_platform_version": "v2"},
        "restart": {"policy": "always"},
    }


def seed_demo_world(fly: FakeState) -> None:
    """Fill a fake's state with the demo world (its org must be ``acme``)."""
    now = fly.clock.now()
    _seed_web(fly, now)
    _seed_worker(fly, now)


def _seed_web(fly: FakeState, now: float) -> None:
    app = fly.create_app(WEB_APP, ORG_SLUG)
    app.created_at = now - 30 * DAY
    data = fly.create_volume(WEB_APP, "data", region="ord", size_gb=10, volume_id=VOL_DATA)
    data.created_at, data.used_bytes = now - 30 * DAY + 3600, int(3.2 * GB)
    old = fly.create_volume(WEB_APP, "data_old", region="ord", size_gb=3, volume_id=VOL_DATA_OLD)
    old.created_at, old.used_bytes = now - 29 * DAY, int(1.1 * GB)
    web_1 = _machine(fly, WEB_APP, WEB_1, "web-1", "ord", web_config(volume=VOL_DATA))
    _history(web_1, born=now - 30 * DAY + 7200, ends="started")
    _upgrade(web_1, web_config(WEB_PREVIOUS_IMAGE, volume=VOL_DATA), at=now - 2 * DAY)
    _history(_machine(fly, WEB_APP, WEB_2, "web-2", "ams", web_config()), now - 20 * DAY, "started")
    web_3 = _machine(fly, WEB_APP, WEB_3, "web-3", "ord", web_config())
    _history(web_3, born=now - 10 * DAY, ends="stopped", at=now - 2 * DAY)
    _secrets(
        fly,
        WEB_APP,
        now - 29 * DAY,
        {
            "DATABASE_URL": "postgres://web:demo-password@web-db.internal:5432/web",
            "SESSION_SECRET": "demo-session-secret",
        },
    )


def _seed_worker(fly: FakeState, now: float) -> None:
    app = fly.create_app(WORKER_APP, ORG_SLUG)
    app.created_at = now - 14 * DAY
    config = worker_config()
    _history(
        _machine(fly, WORKER_APP, WORKER_1, "worker-1", "iad", config), now - 14 * DAY, "started"
    )
    worker_2 = _machine(fly, WORKER_APP, WORKER_2, "worker-2", "iad", config)
    _history(worker_2, born=now - 14 * DAY, ends="suspended", at=now - 1 * DAY)
    worker_3 = _machine(fly, WORKER_APP, WORKER_3, "worker-3", "fra", config)
    _history(worker_3, born=now - 7 * DAY, ends="stopped", at=now - 3 * DAY)
    _secrets(fly, WORKER_APP, now - 13 * DAY, {"QUEUE_URL": "redis://worker-queue.internal:6379/0"})


def _machine(
    fly: FakeState, app: str, machine_id: str, name: str, region: str, config: dict[str, Any]
) -> Machine:
    parsed = MachineConfig.model_validate(config)
    return fly.create_machine(
        app, parsed, name=name, region=region, skip_launch=True, machine_id=machine_id
    )


def _history(machine: Machine, born: float, ends: str, at: float | None = None) -> None:
    """Rewrite a new machine's past: created at ``born``, started, then ``ends`` at ``at``."""
    at = born if at is None else at
    machine.created_at = born
    machine.versions[:] = [Version(machine.ids.ulid(born), machine.config, born)]
    machine.events.clear()
    machine.record("launch", "created", "user", born)
    machine.record("start", "started", "flyd", born + 2)
    machine.state, machine.updated_at = "started", born + 2
    if ends == "stopped":
        machine.record("stop", "stopping", "user", at)
        exited = exit_request(at + 2, exit_code=0, requested_stop=True, restarting=False)
        machine.record("exit", "stopped", "flyd", at + 2, exited)
    elif ends == "suspended":
        machine.record("suspend", "suspending", "user", at)
        machine.record("suspend", "suspended", "flyd", at + 2)
    if ends != "started":
        machine.state, machine.updated_at = ends, at + 2


def _upgrade(machine: Machine, previous: dict[str, Any], at: float) -> None:
    """Give ``machine`` an older first version, replaced by its current one at ``at``."""
    current = machine.versions[-1]
    previous_config = MachineConfig.model_validate(previous).to_wire()
    previous_config["mounts"] = machine.config["mounts"]
    previous_config.setdefault("guest", machine.config["guest"])
    machine.versions[:] = [
        Version(current.id, previous_config, current.at),
        Version(machine.ids.ulid(at), current.config, at),
    ]
    machine.record("update", "starting", "user", at)
    machine.record("start", "started", "flyd", at + 3)
    machine.updated_at = at + 3


def _secrets(fly: FakeState, app: str, at: float, values: dict[str, str]) -> None:
    for name, value in values.items():
        secret, _ = fly.set_secret(app, name, value)
        secret.created_at = secret.updated_at = at
