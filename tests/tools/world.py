"""Example calls for every tool on the demo world, shared by the tool test modules."""

from __future__ import annotations

from typing import Any

from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1, WEB_2, WEB_3
from tests.fake.tour_certificates import FULLCHAIN, PRIVATE_KEY
from tests.fake.tour_secretkeys import EXAMPLES as SECRETKEY_EXAMPLES
from tests.fake.tour_secretkeys import prepare as prepare_secretkeys

HOST = "www.example.com"
CUSTOM_HOST = "shop.example.com"

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
    # certificates and network
    "fly_list_certificates": {"app_name": "web"},
    "fly_get_certificate": {"app_name": "web", "hostname": HOST},
    "fly_request_acme_certificate": {"app_name": "web", "hostname": "api.example.com"},
    "fly_upload_custom_certificate": {
        "app_name": "web",
        "hostname": "*.example.org",
        "fullchain": FULLCHAIN,
        "private_key": PRIVATE_KEY,
    },
    "fly_check_certificate": {"app_name": "web", "hostname": HOST},
    "fly_delete_certificate": {"app_name": "web", "hostname": HOST},
    "fly_delete_acme_certificate": {"app_name": "web", "hostname": HOST},
    "fly_delete_custom_certificate": {"app_name": "web", "hostname": CUSTOM_HOST},
    "fly_list_ip_assignments": {"app_name": "web"},
    "fly_assign_ip": {"app_name": "web", "type": "v6", "region": "ord"},
    "fly_release_ip": {"app_name": "web", "ip": "(assigned)"},
    # maintenance and metadata
    "fly_cordon_machine": {"app_name": "web", "machine_id": WEB_1},
    "fly_uncordon_machine": {"app_name": "web", "machine_id": WEB_1},
    "fly_get_machine_memory": {"app_name": "web", "machine_id": WEB_1},
    "fly_set_machine_memory_limit": {"app_name": "web", "machine_id": WEB_1, "limit_mb": 192},
    "fly_reclaim_machine_memory": {"app_name": "web", "machine_id": WEB_1, "amount_mb": 8},
    "fly_get_machine_metadata": {"app_name": "web", "machine_id": WEB_1},
    "fly_update_machine_metadata": {
        "app_name": "web",
        "machine_id": WEB_1,
        "changes": {"role": "primary"},
    },
    "fly_get_machine_metadata_key": {
        "app_name": "web",
        "machine_id": WEB_1,
        "key": "fly_process_group",
    },
    "fly_set_machine_metadata_key": {
        "app_name": "web",
        "machine_id": WEB_1,
        "key": "role",
        "value": "primary",
    },
    "fly_delete_machine_metadata_key": {
        "app_name": "web",
        "machine_id": WEB_1,
        "key": "fly_platform_version",
    },
    # snapshots, platform, credentials
    "fly_list_volume_snapshots": {"app_name": "web", "volume_id": VOL_DATA},
    "fly_create_volume_snapshot": {"app_name": "web", "volume_id": VOL_DATA},
    "fly_update_volume": {"app_name": "web", "volume_id": VOL_DATA, "snapshot_retention": 10},
    "fly_list_regions": {},
    "fly_get_placements": {"org_slug": "acme", "region": "ord", "count": 2},
    "fly_list_org_machines": {"org_slug": "acme", "limit": 4},
    "fly_list_org_volumes": {"org_slug": "acme"},
    "fly_create_deploy_token": {"app_name": "web", "expiry": "720h"},
    "fly_request_kms_token": {},
    "fly_get_current_token": {},
    "fly_authorize_token": {"action": "r", "org_slug": "acme", "app_name": "web"},
    "fly_authenticate_token": {},
    # secret keys and secret values
    **SECRETKEY_EXAMPLES,
}


def prepared_world(tool: str) -> tuple[FakeFly, dict[str, Any]]:
    """A fresh demo world set up so ``tool``'s example succeeds, and that example."""
    fake = FakeFly.demo()
    example = dict(EXAMPLES[tool])
    _prepare(fake, tool, example)
    if tool in ("fly_get_lease", "fly_release_lease"):
        lease = fake.client().call(
            "fly_acquire_lease", {"app_name": "web", "machine_id": WEB_1, "ttl": 300}
        )
        if tool == "fly_release_lease":
            example["lease_nonce"] = lease["nonce"]
    return fake, example


def _prepare(fake: FakeFly, tool: str, example: dict[str, Any]) -> None:
    """State the opt-in groups' examples need: a certificate, an address."""
    client = fake.client()
    web = {"app_name": "web"}
    if "certificate" in tool and tool not in ("fly_request_acme_certificate",):
        client.call("fly_request_acme_certificate", web | {"hostname": HOST})
        client.call(
            "fly_upload_custom_certificate",
            web | {"hostname": CUSTOM_HOST, "fullchain": FULLCHAIN, "private_key": PRIVATE_KEY},
        )
    if tool == "fly_release_ip":
        example["ip"] = client.call("fly_assign_ip", web | {"type": "v6", "region": "ord"})["ip"]
    if tool in SECRETKEY_EXAMPLES:
        example.update(prepare_secretkeys(fake, tool, example))
    fake.clear_requests()
