"""``fly-tools token attenuate`` and ``token check``, against the fake (which enforces)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from fly_tools.cli import options
from fly_tools.macaroons import permission_tokens
from fly_tools.testing import BASE_URL, FakeClock, FakeFly
from fly_tools.testing.world import VOL_DATA
from tests.cli.conftest import Run


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> FakeFly:
    """The fake standing in for live Fly; the CLI's token is the client's."""
    world = FakeFly.demo(clock=FakeClock(time.time()))  # tokens carry wall-clock windows
    holder = {"token": world.tokens["org"]}
    monkeypatch.setattr(options, "live_client", lambda **_: world.client(token=holder["token"]))
    world.holder = holder  # type: ignore[attr-defined]
    return world


def send(fake: FakeFly, header: str, method: str, path: str) -> int:
    with httpx.Client(base_url=BASE_URL + "/v1", transport=fake.transport()) as client:
        return client.request(method, path, headers={"Authorization": header}).status_code


def test_attenuate_prints_a_token_fly_holds_to_the_app_and_reads(live: FakeFly, run: Run) -> None:
    status, out, err = run(
        "token", "attenuate", "--app", "web", "--max-risk", "read", "--ttl", "1h"
    )
    assert status == 0, err
    header = out.strip()
    assert header.startswith("FlyV1 fm2_")
    assert live.tokens["org"] not in out
    (macaroon,) = permission_tokens(header)
    assert len(macaroon.caveats) > 1
    assert send(live, header, "GET", "/apps/web/machines") == 200
    assert send(live, header, "DELETE", f"/apps/web/volumes/{VOL_DATA}") == 403
    assert send(live, header, "GET", "/apps/worker/machines") == 403
    assert send(live, header, "POST", "/apps/web/secrets/X") == 403
    assert "fly_decrypt_with_secret_key" in err  # same access as a read: said, not hidden


def test_check_shows_what_the_narrowed_token_allows(live: FakeFly, run: Run) -> None:
    _, out, _ = run("token", "attenuate", "--app", "web", "--max-risk", "read")
    live.holder["token"] = out.strip()  # type: ignore[attr-defined]
    status, table, err = run("token", "check", "--app", "web", "--json")
    assert status == 0, err
    rows = {r["operation"]: r["fly"] for r in json.loads(table)}
    assert len(rows) == 75
    assert rows["fly_list_machines"] == "allowed"
    assert rows["fly_delete_app"].startswith("denied")
    assert rows["fly_create_app"].startswith("denied")
    assert rows["fly_get_machine"].startswith("depends on the target")


def test_check_on_the_full_token_allows_app_writes(live: FakeFly, run: Run) -> None:
    status, table, _ = run("token", "check", "--app", "web")
    assert status == 0
    line = next(line for line in table.splitlines() if line.startswith("fly_delete_app "))
    assert line.endswith("allowed")


@pytest.mark.parametrize("ttl", ["0h", "1y", "soon"])
def test_a_bad_ttl_is_a_usage_error(live: FakeFly, run: Run, ttl: str) -> None:
    status, _, err = run("token", "attenuate", "--ttl", ttl)
    assert status == 2
    assert "--ttl" in err


def test_a_plain_token_cannot_be_narrowed(live: FakeFly, run: Run) -> None:
    live.holder["token"] = live.issue_token("org", plain=True)  # type: ignore[attr-defined]
    status, out, err = run("token", "attenuate")
    assert status == 2
    assert "cannot be narrowed" in err
    assert live.holder["token"] not in err + out  # type: ignore[attr-defined]
