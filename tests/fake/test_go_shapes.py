"""The fake answers and accepts what Fly's Go server and flyctl do, where the spec differs.

Each test names the fly-go, flyctl or docs line it follows (ENDPOINTS.md, "Go-shaped
answers"). Every answer is still checked against the spec (conftest).
"""

from __future__ import annotations

from typing import Any

import pytest

from fly_tools.testing import FakeFly
from tests.fake.conftest import raw_client

# flyctl internal/command/deploy/deploy_first.go:44-119 (provisionIpsOnFirstDeploy): each
# AssignIP leaves region and network at "" and fly-go's AssignIPRequest has no omitempty
# (superfly/fly-go flaps/flaps_ip_assignments.go:28-34), so all five keys are sent.
FIRST_DEPLOY = {
    "shared": ["v6", "shared_v4"],
    "dedicated": ["v4", "v6"],
    "private": ["private_v6"],
}


def _assign_body(ip_type: str) -> dict[str, Any]:
    return {"type": ip_type, "region": "", "org_slug": "acme", "network": "", "service_name": ""}


@pytest.mark.parametrize("ip_type", sorted(FIRST_DEPLOY))
def test_flyctl_first_deploy_ip_provisioning_works(ip_type: str) -> None:
    fake = FakeFly(app_ready_delay=0)
    with raw_client(fake, fake.tokens["org"], scheme="FlyV1") as http:
        assert http.post("/apps", json={"app_name": "first", "org_slug": "acme"}).status_code == 201
        assert http.get("/apps/first/ip_assignments").json()["ips"] == []
        for kind in FIRST_DEPLOY[ip_type]:
            answer = http.post("/apps/first/ip_assignments", json=_assign_body(kind))
            assert answer.status_code == 200, answer.text
        listed = http.get("/apps/first/ip_assignments").json()["ips"]
    assert len(listed) == len(FIRST_DEPLOY[ip_type])
    assert all("service_name" not in ip or ip["service_name"] for ip in listed)
    assert [r.status for r in fake.requests if r.method == "POST"][1:] == [200] * len(listed)


def test_an_empty_string_is_unset_but_a_bad_value_is_still_refused() -> None:
    fake = FakeFly.demo()
    with raw_client(fake, fake.tokens["org"]) as http:
        bad_region = http.post("/apps/web/ip_assignments", json=_assign_body("v6") | {"region": "x"})
        other_org = http.post(
            "/apps/web/ip_assignments", json=_assign_body("v6") | {"org_slug": "other"}
        )
        network_on_public = http.post(
            "/apps/web/ip_assignments", json=_assign_body("v6") | {"network": "n1"}
        )
    assert (bad_region.status_code, other_org.status_code) == (400, 400)
    assert network_on_public.status_code == 400
