"""FlyToolkit(attenuate=...): what reaches the fake is a token narrowed to the call.

A spy transport in front of the fake records each request's Authorization header; the
fake itself verifies and enforces every caveat.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from fly_tools import FlyClient, FlyToolkit, approve_all
from fly_tools.macaroons import Apps, Machines, ValidityWindow, Volumes, permission_tokens
from fly_tools.macaroons.toolkit import Attenuation
from fly_tools.macaroons.transport import NarrowingTransport
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1


class Spy(httpx.BaseTransport):
    def __init__(self, fake: FakeFly) -> None:
        self.inner = fake.transport()
        self.headers: list[tuple[str, str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        self.headers.append((request.method, request.url.path, auth))
        return self.inner.handle_request(request)


def toolkit(fake: FakeFly, spy: Spy, token: str | None = None, **kw: object) -> FlyToolkit:
    client = FlyClient(
        token=token or fake.tokens["org"],
        base_url=BASE_URL,
        transport=spy,
        rate_limit=False,
        clock=fake.clock.now,
        sleep=fake.clock.sleep,
    )
    options: dict[str, object] = {"scope": "org", "app": "web", "check_scope": False}
    return FlyToolkit(client=client, attenuate=Attenuation(clock=fake.clock.now), **options | kw)


def kept(fake: FakeFly, volume: str) -> bool:
    return fake.state.apps["web"].volumes[volume].deleted_at is None


def send(fake: FakeFly, header: str, method: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=BASE_URL + "/v1", transport=fake.transport()) as client:
        return client.request(method, path, headers={"Authorization": header})


def sent_for(spy: Spy, method: str, suffix: str) -> str:
    return next(h for m, p, h in reversed(spy.headers) if m == method and p.endswith(suffix))


def test_a_read_goes_out_on_a_token_pinned_to_its_machine() -> None:
    fake = FakeFly.demo()
    spy = Spy(fake)
    kit = toolkit(fake, spy)
    kit.call("fly_get_machine", {"machine_id": WEB_1})
    (macaroon,) = permission_tokens(sent_for(spy, "GET", f"/machines/{WEB_1}"))
    web_id = fake.state.apps["web"].internal_numeric_id
    assert Machines({WEB_1: 1}) in macaroon.caveats
    assert Apps({web_id: 1}) in macaroon.caveats
    assert any(isinstance(c, ValidityWindow) for c in macaroon.caveats)


def test_the_client_s_own_token_cannot_do_what_the_policy_gates_or_refuses() -> None:
    fake = FakeFly.demo()
    kit = toolkit(fake, Spy(fake), max_risk="write")
    reach = "FlyV1 " + kit.client.token.reveal()  # what code skipping the tools holds
    assert kit.client is kit._runtime.base_client
    assert send(fake, reach, "DELETE", f"/apps/web/volumes/{VOL_DATA}").status_code == 403
    assert send(fake, reach, "POST", f"/apps/web/machines/{WEB_1}/stop").status_code == 403
    assert send(fake, reach, "DELETE", "/apps/worker").status_code == 403
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None


def test_an_approved_delete_s_token_deletes_that_volume_once_within_a_minute() -> None:
    fake = FakeFly.demo()
    spy = Spy(fake)
    kit = toolkit(fake, spy, confirm=approve_all)
    kit.call("fly_delete_volume", {"volume_id": VOL_DATA_OLD})
    assert fake.state.apps["web"].volumes[VOL_DATA_OLD].deleted_at is not None
    one_call = sent_for(spy, "DELETE", f"/volumes/{VOL_DATA_OLD}")
    (macaroon,) = permission_tokens(one_call)
    assert Volumes({VOL_DATA_OLD: 8}) in macaroon.caveats
    other = send(fake, one_call, "DELETE", f"/apps/web/volumes/{VOL_DATA}")
    assert other.status_code == 403
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None
    fake.clock.advance(61)
    late = send(fake, one_call, "DELETE", f"/apps/web/volumes/{VOL_DATA_OLD}")
    assert late.status_code == 403
    assert "only valid until" in late.json()["error"]


def test_a_gated_call_without_an_approval_never_gets_a_one_call_token() -> None:
    fake = FakeFly.demo()
    spy = Spy(fake)
    kit = toolkit(fake, spy, confirm=approve_all)
    # Straight through the toolkit's client, skipping the pipeline (and its receipt):
    with pytest.raises(Exception, match="403"):
        kit._runtime.client.call("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA})
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None


async def test_async_calls_are_narrowed_too() -> None:
    fake = FakeFly.demo()
    kit = FlyToolkit(
        client=fake.async_client(),
        scope="org",
        app="web",
        check_scope=False,
        attenuate=Attenuation(clock=fake.clock.now),
    )
    tool = {t.name: t for t in kit.get_tools()}["fly_get_machine"]
    assert WEB_1 in str(await tool.ainvoke({"machine_id": WEB_1}))
    reach = "FlyV1 " + kit._runtime.base_client.token.reveal()
    assert send(fake, reach, "DELETE", f"/apps/web/volumes/{VOL_DATA}").status_code == 403


def test_a_token_that_is_no_macaroon_is_used_as_is_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeFly.demo()
    plain = fake.issue_token("org", plain=True)
    with caplog.at_level(logging.WARNING, logger="fly_tools.macaroons"):
        kit = toolkit(fake, Spy(fake), token=plain)
        kit.call("fly_get_machine", {"machine_id": WEB_1})
        kit.call("fly_list_machines", {})
    warnings = [r for r in caplog.records if "not a Fly macaroon" in r.getMessage()]
    assert len(warnings) == 1
    assert plain not in caplog.text


def test_the_scope_check_still_reads_the_token_and_writes_go_through() -> None:
    fake = FakeFly.demo()
    spy = Spy(fake)
    client = FlyClient(
        token=fake.issue_token("deploy", app="web"),
        base_url=BASE_URL,
        transport=spy,
        rate_limit=False,
        clock=fake.clock.now,
    )
    kit = FlyToolkit(
        client=client, scope="deploy", app="web", attenuate=Attenuation(clock=fake.clock.now)
    )  # check_scope on (the default)
    kit.call("fly_set_secret", {"secret_name": "K1", "value": "v"})
    sent = [(m, p) for m, p, _ in spy.headers]
    assert ("POST", "/v1/tokens/authorize") in sent
    assert sent[-1] == ("POST", "/v1/apps/web/secrets/K1")
    assert "K1" in fake.state.apps["web"].secrets


def test_no_repr_shows_the_user_s_token() -> None:
    fake = FakeFly.demo()
    kit = toolkit(fake, Spy(fake))
    transport = kit._runtime.base_client._transport
    assert isinstance(transport, NarrowingTransport)
    shown = repr(transport) + repr(transport.narrowing) + repr(kit) + repr(kit._runtime.base_client)
    assert fake.tokens["org"].removeprefix("fm2_")[:24] not in shown
    assert kit._runtime.base_client.token.reveal() not in shown


def test_a_retried_approved_call_reuses_its_one_call_token_and_only_that() -> None:
    fake = FakeFly.demo()
    kit = toolkit(fake, Spy(fake), confirm=approve_all)
    transport = kit.client._transport
    assert isinstance(transport, NarrowingTransport)
    narrowing = transport.narrowing
    from fly_tools import ENDPOINTS

    delete = ENDPOINTS["fly_delete_volume"]
    path = {"app_name": "web", "volume_id": VOL_DATA_OLD}
    url = f"{BASE_URL}/v1/apps/web/volumes/{VOL_DATA_OLD}"
    ids: dict[str | None, int] = {"web": fake.state.apps["web"].internal_numeric_id}
    reach = narrowing.header_for(httpx.Request("DELETE", url), ids.get)
    narrowing.permit(delete, path)
    first = narrowing.header_for(httpx.Request("DELETE", url), ids.get)
    assert first != reach
    assert narrowing.header_for(httpx.Request("DELETE", url), ids.get) == first  # a retry
    other = f"{BASE_URL}/v1/apps/web/volumes/{VOL_DATA}"
    assert narrowing.header_for(httpx.Request("DELETE", other), ids.get) != first
    fake.clock.advance(61)
    assert narrowing.header_for(httpx.Request("DELETE", url), ids.get) != first
