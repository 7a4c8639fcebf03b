"""The fake's snapshots, volume settings, platform, org-wide lists and credentials.

Every response here is checked against Fly's OpenAPI spec (``conftest.py``); requests go
over raw HTTP (what Fly would receive) and through the clients.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fly_tools.catalogue import ENDPOINTS
from fly_tools.client import FlyClient, ForbiddenError
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_3
from tests.fake.conftest import raw_client
from tests.fake.tour import drive, drive_async
from tests.fake.tour_platform import platform_tour

AREA = {e.name for e in ENDPOINTS.records if e.group in ("snapshots", "platform", "credentials")}
SNAPSHOTS = f"/apps/web/volumes/{VOL_DATA}/snapshots"
DAY = 86_400.0


def test_the_tour_calls_every_endpoint_of_the_area(fake: FakeFly) -> None:
    with fake.client() as client:
        drive(client, platform_tour())
    called = {r.endpoint for r in fake.requests}
    assert called >= AREA
    assert all(r.status is not None and r.status < 300 for r in fake.requests)


async def test_the_tour_runs_on_the_async_client(fake: FakeFly) -> None:
    async with fake.async_client() as client:
        await drive_async(client, platform_tour())
    assert {r.endpoint for r in fake.requests} >= AREA


# ---------------------------------------------------------------- snapshots


def test_a_snapshot_runs_then_is_created(fake: FakeFly, http: httpx.Client) -> None:
    made = http.post(SNAPSHOTS)
    assert (made.status_code, made.content) == (200, b"")
    [running] = http.get(SNAPSHOTS).json()
    assert running["status"] == "running"
    assert running["volume_size"] == 10 << 30
    fake.clock.advance(60)
    [done] = http.get(SNAPSHOTS).json()
    assert (done["id"], done["status"]) == (running["id"], "created")


def test_lowering_the_retention_keeps_existing_snapshots(fake: FakeFly, http: httpx.Client) -> None:
    # superfly/docs volumes/snapshots.html.markerb:26: "The new retention period is applied
    # to new snapshots; it won't affect existing snapshots."
    http.post(SNAPSHOTS)
    fake.clock.advance(3 * DAY)
    http.post(SNAPSHOTS)
    updated = http.put(f"/apps/web/volumes/{VOL_DATA}", json={"snapshot_retention": 1})
    assert updated.json()["snapshot_retention"] == 1
    assert [s["retention_days"] for s in http.get(SNAPSHOTS).json()] == [5, 5]
    http.post(SNAPSHOTS)
    assert [s["retention_days"] for s in http.get(SNAPSHOTS).json()] == [5, 5, 1]
    fake.clock.advance(1 * DAY)  # the new one expires on its own (1 day); the others stay
    assert [s["retention_days"] for s in http.get(SNAPSHOTS).json()] == [5, 5]
    fake.clock.advance(2 * DAY)  # 5 days after the first: it expires as it always would
    assert [s["retention_days"] for s in http.get(SNAPSHOTS).json()] == [5]


def test_turning_daily_backups_off_removes_no_snapshot(fake: FakeFly, http: httpx.Client) -> None:
    # superfly/docs volumes/snapshots.html.markerb:180: "Disabling automatic snapshots will
    # not remove any existing snapshots for the volume".
    http.post(SNAPSHOTS)
    off = http.put(f"/apps/web/volumes/{VOL_DATA}", json={"auto_backup_enabled": False})
    assert off.json()["auto_backup_enabled"] is False
    assert len(http.get(SNAPSHOTS).json()) == 1


@pytest.mark.parametrize("retention", [0, 61])
def test_retention_out_of_range_is_a_400(http: httpx.Client, retention: int) -> None:
    answer = http.put(f"/apps/web/volumes/{VOL_DATA}", json={"snapshot_retention": retention})
    assert answer.status_code == 400
    assert "between 1 and 60" in answer.json()["error"]


def test_snapshots_of_unknown_or_deleted_volumes_are_404(http: httpx.Client) -> None:
    assert http.post("/apps/web/volumes/vol_nope/snapshots").status_code == 404
    assert http.delete(f"/apps/web/volumes/{VOL_DATA_OLD}").status_code == 200
    assert http.post(f"/apps/web/volumes/{VOL_DATA_OLD}/snapshots").status_code == 404
    assert http.put(f"/apps/web/volumes/{VOL_DATA_OLD}", json={}).status_code == 404


# ---------------------------------------------------------------- platform


def test_placements_default_to_each_regions_limit(http: httpx.Client) -> None:
    answer = http.post("/platform/placements", json={"org_slug": "acme", "region": "eu"})
    regions = answer.json()["regions"]
    assert {r["region"] for r in regions} >= {"ams", "fra", "lhr"}
    assert all(r["count"] > 0 for r in regions)


def test_bigger_machines_fit_fewer_per_region(http: httpx.Client) -> None:
    small = http.post("/platform/placements", json={"org_slug": "acme", "region": "ord"})
    big = http.post(
        "/platform/placements",
        json={"org_slug": "acme", "region": "ord", "compute": {"cpus": 8, "memory_mb": 16384}},
    )
    assert big.json()["regions"][0]["count"] < small.json()["regions"][0]["count"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"org_slug": "other-org"}, 404),
        ({"org_slug": "acme", "region": "xyz"}, 400),
        ({"region": "ord"}, 400),
    ],
)
def test_placements_refuse_what_fly_refuses(
    http: httpx.Client, body: dict[str, Any], status: int
) -> None:
    assert http.post("/platform/placements", json=body).status_code == status


# ---------------------------------------------------------------- org-wide lists


def test_org_machines_filter_by_region_and_time(fake: FakeFly, http: httpx.Client) -> None:
    in_ord = http.get("/orgs/acme/machines", params={"region": "ord"}).json()["machines"]
    assert {m["name"] for m in in_ord} == {"web-1", "web-3"}
    latest = max(m["updated_at"] for m in in_ord)
    after = http.get("/orgs/acme/machines", params={"updated_after": latest}).json()
    assert all(m["updated_at"] > latest for m in after["machines"])
    assert http.get("/orgs/acme/machines", params={"updated_after": "yesterday"}).status_code == 400


def test_org_machines_summary_leaves_out_config(http: httpx.Client) -> None:
    full = http.get("/orgs/acme/machines").json()["machines"]
    short = http.get("/orgs/acme/machines", params={"summary": "true"}).json()["machines"]
    assert all("image" in m["config"] for m in full)
    assert all("config" not in m for m in short)


def test_destroyed_machines_only_with_include_deleted(fake: FakeFly, http: httpx.Client) -> None:
    assert http.delete(f"/apps/web/machines/{WEB_3}").status_code == 200
    fake.clock.advance(60)
    shown = http.get("/orgs/acme/machines").json()["machines"]
    everything = http.get("/orgs/acme/machines", params={"include_deleted": "true"}).json()
    assert WEB_3 not in {m["id"] for m in shown}
    assert WEB_3 in {m["id"] for m in everything["machines"]}


def test_a_bad_cursor_is_a_400(http: httpx.Client) -> None:
    answer = http.get("/orgs/acme/volumes", params={"cursor": "not-a-cursor"})
    assert answer.status_code == 400
    assert "cursor" in answer.json()["error"]


def test_org_volumes_filter_by_state_and_summary(http: httpx.Client) -> None:
    assert http.delete(f"/apps/web/volumes/{VOL_DATA_OLD}").status_code == 200
    live = http.get("/orgs/acme/volumes", params={"summary": "true"}).json()["volumes"]
    assert [v["id"] for v in live] == [VOL_DATA]
    assert "blocks" not in live[0]
    every = http.get("/orgs/acme/volumes", params={"include_deleted": "true"}).json()
    assert {v["id"] for v in every["volumes"]} == {VOL_DATA, VOL_DATA_OLD}
    created = http.get("/orgs/acme/volumes", params={"state": "created,hydrating"}).json()
    assert [v["id"] for v in created["volumes"]] == [VOL_DATA]


@pytest.mark.parametrize("path", ["/orgs/acme/machines", "/orgs/acme/volumes"])
def test_org_lists_need_an_org_level_token(fake: FakeFly, path: str) -> None:
    with raw_client(fake, fake.tokens["deploy"]) as deploy:
        assert deploy.get(path).status_code == 403
    with raw_client(fake, fake.tokens["readonly"]) as readonly:
        assert readonly.get(path).status_code == 200
        assert readonly.get(path.replace("acme", "other-org")).status_code == 404


# ---------------------------------------------------------------- credentials


def test_a_minted_deploy_token_reaches_its_app_only(fake: FakeFly, http: httpx.Client) -> None:
    minted = http.post("/apps/web/deploy_token", json={"expiry": "24h"}).json()["token"]
    client = FlyClient(token=minted, base_url="http://fake", transport=fake.transport())
    assert client.call("fly_get_app", {"app_name": "web"})["name"] == "web"
    with raw_client(fake, minted.removeprefix("FlyV1 "), scheme="FlyV1") as deploy:
        assert deploy.get("/apps/worker").status_code == 404
        assert deploy.get("/orgs/acme/machines").status_code == 403


def test_deploy_tokens_refuse_bad_expiry_and_readonly_callers(fake: FakeFly) -> None:
    with raw_client(fake, fake.tokens["org"]) as http:
        assert http.post("/apps/web/deploy_token", json={"expiry": "forever"}).status_code == 400
    with raw_client(fake, fake.tokens["readonly"]) as readonly:
        assert readonly.post("/apps/web/deploy_token", json={}).status_code == 403


def test_kms_token_is_plain_text(http: httpx.Client) -> None:
    answer = http.post("/tokens/kms")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.strip()


@pytest.mark.parametrize("header", ["", "Bearer fm2_not-a-token"])
def test_authenticate_refuses_a_missing_or_unknown_header(http: httpx.Client, header: str) -> None:
    answer = http.post("/tokens/authenticate", json={"header": header})
    assert answer.status_code == 400


def test_authenticate_shows_a_readonly_tokens_caveats(fake: FakeFly, http: httpx.Client) -> None:
    header = f"Bearer {fake.tokens['readonly']}"
    [verified] = http.post("/tokens/authenticate", json={"header": header}).json()
    # Go's CaveatSet.MarshalJSON: a bare array (superfly/macaroon caveat_set.go).
    [organization] = verified["caveats"]
    assert organization["body"]["mask"] == "r"


def test_the_scope_check_still_works_through_the_catalogue_records(fake: FakeFly) -> None:
    client = fake.client(scope="readonly")
    assert client.current_token()["tokens"][0]["org_slug"] == "acme"
    assert client.authorize({"action": 1, "org_slug": "acme"})["access"]["action"] == 1
    with pytest.raises(ForbiddenError):
        client.authorize({"action": 2, "org_slug": "acme"})
    exec_client = fake.client(scope="machine-exec")
    caveats = exec_client.authorize({"org_slug": "acme"})["verified_token"]["caveats"]
    assert "Commands" in {c["type"] for c in caveats}
