"""A tour of the snapshot, platform and credential endpoints on the demo world.

Like :func:`tests.fake.tour.every_endpoint`, it yields ``(endpoint name, arguments)``
and asserts on each answer; it calls every endpoint of the area at least once.
"""

from __future__ import annotations

from typing import Any

from fly_tools.client.tokens import caveats_of
from fly_tools.testing.world import MACHINES, VOL_DATA, VOL_DATA_OLD
from tests.fake.tour import Tour


def platform_tour() -> Tour:
    """Snapshots and volume settings, regions and placements, org lists, credentials."""
    yield from _snapshots()
    yield from _platform()
    yield from _org_lists()
    yield from _credentials()


def _snapshots() -> Tour:
    volume = {"app_name": "web", "volume_id": VOL_DATA}
    before = yield "fly_list_volume_snapshots", volume
    assert before == []
    created = yield "fly_create_volume_snapshot", volume
    assert created is None  # Fly answers 200 with no body
    snapshots = yield "fly_list_volume_snapshots", volume
    assert len(snapshots) == 1
    assert snapshots[0]["id"].startswith("vs_")
    assert snapshots[0]["status"] in ("running", "created")
    assert snapshots[0]["retention_days"] == 5
    updated = yield "fly_update_volume", volume | {"snapshot_retention": 10}
    assert (updated["id"], updated["snapshot_retention"]) == (VOL_DATA, 10)
    off = yield "fly_update_volume", volume | {"auto_backup_enabled": False}
    assert off["auto_backup_enabled"] is False
    assert off["snapshot_retention"] == 10


def _platform() -> Tour:
    regions = yield "fly_list_regions", {}
    codes = {row["code"] for row in regions["regions"]}
    assert {"ord", "ams", "iad", "fra"} <= codes
    assert regions["nearest"] in codes
    placed = yield "fly_get_placements", {"org_slug": "acme", "region": "ord", "count": 2}
    assert [(r["region"], r["count"]) for r in placed["regions"]] == [("ord", 2)]


def _org_lists() -> Tour:
    first = yield "fly_list_org_machines", {"org_slug": "acme", "limit": 4}
    assert len(first["machines"]) == 4
    assert first["next_cursor"]
    rest = yield "fly_list_org_machines", {"org_slug": "acme", "cursor": first["next_cursor"]}
    ids = [m["id"] for m in first["machines"] + rest["machines"]]
    assert sorted(ids) == sorted(MACHINES.values())
    assert "next_cursor" not in rest
    started = yield "fly_list_org_machines", {"org_slug": "acme", "state": ["started"]}
    assert {m["name"] for m in started["machines"]} == {"web-1", "web-2", "worker-1"}
    volumes = yield "fly_list_org_volumes", {"org_slug": "acme"}
    assert {(v["id"], v["app_name"]) for v in volumes["volumes"]} == {
        (VOL_DATA, "web"),
        (VOL_DATA_OLD, "web"),
    }


def _credentials() -> Tour:
    current = yield "fly_get_current_token", {}
    assert current["tokens"][0]["org_slug"] == "acme"
    granted = yield "fly_authorize_token", {"action": "r", "org_slug": "acme", "app_name": "web"}
    assert isinstance(granted["access"]["appid"], int)
    verified = yield "fly_authenticate_token", {}
    kinds = {c["type"] for c in caveats_of({"verified_token": verified[0]})}
    assert "Organization" in kinds
    minted: Any = yield "fly_create_deploy_token", {"app_name": "web", "expiry": "720h"}
    assert minted["token"].startswith("FlyV1 fm2_")
    kms = yield "fly_request_kms_token", {}
    assert set(kms) == {"token"}
    assert kms["token"]
