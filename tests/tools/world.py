"""Example calls for every tool on the demo world, shared by the tool test modules."""

from __future__ import annotations

from typing import Any

from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1, WEB_2, WEB_3

EXAMPLES: dict[str, dict[str, Any]] = {
    "fly_list_apps": {"org_slug": "acme"},
    "fly_get_app": {"app_name": "web"},
    "fly_create_app": {"app_name": "new-app", "org_slug": "acme"},
    "fly_delete_app": {"app_name": "worker", "force": True},
    "fly_list_machines": {"app_name": "web"},
    "fly_get_machine": {"app_name": "web", "machine_id": WEB_1},
    "fly_create_machine": {"app_name": "web", "image": "nginx:1.27", "region": "ord"},
    "fly_update_machine": {"app_name": "web", "machine_id": WEB_2, "memory_mb": 512},
    "fly_delete_machine": {"app_name": "web", "machine_id": WEB_3},
    "fly_start_machine": {"app_name": "web", "machine_id": WEB_3},
    "fly_stop_machine": {"app_name": "web", "machine_id": WEB_2, "timeout": "10s"},
    "fly_restart_machine": {"app_name": "web", "machine_id": WEB_2},
    "fly_suspend_machine": {"app_name": "web", "machine_id": WEB_2},
    "fly_signal_machine": {"app_name": "web", "machine_id": WEB_1, "signal": "SIGHUP"},
    "fly_exec_machine": {"app_name": "web", "machine_id": WEB_1, "command": ["ls", "/data"]},
    "fly_wait_machine": {"app_name": "web", "machine_id": WEB_1, "state": "started", "timeout": 5},
    "fly_list_machine_processes": {"app_name": "web", "machine_id": WEB_1},
    "fly_list_machine_events": {"app_name": "web", "machine_id": WEB_1, "limit": 5},
    "fly_list_machine_versions": {"app_name": "web", "machine_id": WEB_1},
    "fly_acquire_lease": {"app_name": "web", "machine_id": WEB_2, "ttl": 60},
    "fly_get_lease": {"app_name": "web", "machine_id": WEB_1},
    "fly_release_lease": {"app_name": "web", "machine_id": WEB_1},
    "fly_list_volumes": {"app_name": "web"},
    "fly_get_volume": {"app_name": "web", "volume_id": VOL_DATA},
    "fly_create_volume": {"app_name": "web", "name": "logs", "region": "ord", "size_gb": 1},
    "fly_extend_volume": {"app_name": "web", "volume_id": VOL_DATA, "size_gb": 20},
    "fly_delete_volume": {"app_name": "web", "volume_id": VOL_DATA_OLD},
    "fly_list_secrets": {"app_name": "web"},
    "fly_set_secret": {"app_name": "web", "secret_name": "API_KEY", "value": "s3cr3t-v4lue"},
    "fly_delete_secret": {"app_name": "web", "secret_name": "SESSION_SECRET"},
    "fly_request_oidc_token": {"aud": "sts.amazonaws.com"},
}


def prepared_world(tool: str) -> tuple[FakeFly, dict[str, Any]]:
    """A fresh demo world set up so ``tool``'s example succeeds, and that example."""
    fake = FakeFly.demo()
    example = dict(EXAMPLES[tool])
    if tool in ("fly_get_lease", "fly_release_lease"):
        lease = fake.client().call(
            "fly_acquire_lease", {"app_name": "web", "machine_id": WEB_1, "ttl": 300}
        )
        if tool == "fly_release_lease":
            example["lease_nonce"] = lease["nonce"]
    return fake, example
