"""``--attenuate`` on ``fly-tools call`` and ``fly-tools mcp``: what reaches the fake is narrowed.

A spy transport in front of the fake records each request's Authorization header; the
fake verifies every caveat itself, so a window on the wrong clock would be refused.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fly_tools.cli import options
from fly_tools.cli.parser import build_parser
from fly_tools.macaroons import (
    DELETE,
    Apps,
    Machines,
    ValidityWindow,
    Volumes,
    permission_tokens,
)
from fly_tools.mcp import cli as mcp_cli
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.world import VOL_DATA, VOL_DATA_OLD, WEB_1
from tests.cli.conftest import Run


class Spy(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The fake's transport, noting each request's method, path and Authorization header."""

    def __init__(self, fake: FakeFly) -> None:
        self.inner = fake.transport()
        self.headers: list[tuple[str, str, str]] = []

    def _note(self, request: httpx.Request) -> None:
        auth = request.headers.get("authorization", "")
        self.headers.append((request.method, request.url.path, auth))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._note(request)
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._note(request)
        return await self.inner.handle_async_request(request)

    def sent_for(self, method: str, suffix: str) -> str:
        return next(h for m, p, h in reversed(self.headers) if m == method and p.endswith(suffix))


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeFly, Spy]:
    """The fake `fly-tools call` talks to, behind a spy."""
    fake = FakeFly.demo()
    spy = Spy(fake)

    def client(scope: str, app: str | None, **extra: Any) -> Any:
        return fake.client(scope, app, transport=spy)

    monkeypatch.setattr(options, "_fake_client", client)
    return fake, spy


def app_id(fake: FakeFly, app: str) -> int:
    return int(fake.state.apps[app].internal_numeric_id)


def send(fake: FakeFly, header: str, method: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=BASE_URL + "/v1", transport=fake.transport()) as client:
        return client.request(method, path, headers={"Authorization": header})


def test_call_with_attenuate_sends_a_token_pinned_to_the_app_and_machine(
    run: Run, spied: tuple[FakeFly, Spy]
) -> None:
    fake, spy = spied
    argv = ["call", "fly_get_machine", "--scope", "deploy", "--app", "web", "--no-check-scope"]
    status, _, err = run(*argv, "--args", f'{{"machine_id": "{WEB_1}"}}', "--attenuate")
    assert status == 0, err
    (macaroon,) = permission_tokens(spy.sent_for("GET", f"/machines/{WEB_1}"))
    assert Apps({app_id(fake, "web"): 1}) in macaroon.caveats
    assert Machines({WEB_1: 1}) in macaroon.caveats
    window = next(c for c in macaroon.caveats if isinstance(c, ValidityWindow))
    # On the fake's clock, not the wall clock: the fake accepted it.
    assert window.not_before <= fake.clock.now() < window.not_after


def test_call_without_attenuate_sends_the_token_as_it_is(
    run: Run, spied: tuple[FakeFly, Spy]
) -> None:
    _, spy = spied
    argv = ["call", "fly_get_machine", "--scope", "deploy", "--app", "web", "--no-check-scope"]
    status, _, err = run(*argv, "--args", f'{{"machine_id": "{WEB_1}"}}')
    assert status == 0, err
    (macaroon,) = permission_tokens(spy.sent_for("GET", f"/machines/{WEB_1}"))
    assert not any(isinstance(c, (Machines, ValidityWindow)) for c in macaroon.caveats)


def test_the_token_sent_by_call_attenuate_cannot_delete_on_its_own(
    run: Run, spied: tuple[FakeFly, Spy]
) -> None:
    fake, spy = spied
    argv = ["call", "fly_list_volumes", "--scope", "deploy", "--app", "web", "--no-check-scope"]
    status, _, err = run(*argv, "--attenuate")
    assert status == 0, err
    header = spy.sent_for("GET", "/apps/web/volumes")
    assert send(fake, header, "DELETE", f"/apps/web/volumes/{VOL_DATA}").status_code == 403
    assert send(fake, header, "GET", "/apps/web/volumes").status_code == 200
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None


def test_an_approved_delete_goes_out_on_a_token_for_that_volume_only(
    run: Run, spied: tuple[FakeFly, Spy]
) -> None:
    fake, spy = spied
    argv = ["call", "fly_delete_volume", "--scope", "deploy", "--app", "web", "--yes"]
    status, _, err = run(*argv, "--args", f'{{"volume_id": "{VOL_DATA_OLD}"}}', "--attenuate")
    assert status == 0, err
    assert fake.state.apps["web"].volumes[VOL_DATA_OLD].deleted_at is not None
    header = spy.sent_for("DELETE", f"/volumes/{VOL_DATA_OLD}")
    (macaroon,) = permission_tokens(header)
    assert Volumes({VOL_DATA_OLD: DELETE}) in macaroon.caveats
    other = send(fake, header, "DELETE", f"/apps/web/volumes/{VOL_DATA}")
    assert other.status_code == 403
    assert fake.state.apps["web"].volumes[VOL_DATA].deleted_at is None


def test_attenuate_is_a_toolkit_flag_of_tools_call_and_mcp() -> None:
    parser = build_parser()
    assert parser.parse_args(["tools", "--attenuate"]).attenuate is True
    assert parser.parse_args(["call", "fly_list_apps", "--attenuate"]).attenuate is True
    assert parser.parse_args(["call", "fly_list_apps"]).attenuate is False
    assert mcp_cli.build_parser().parse_args(["--attenuate"]).attenuate is True
    assert mcp_cli.build_parser().parse_args([]).attenuate is False


async def test_mcp_attenuate_serves_a_toolkit_whose_token_is_narrowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeFly.demo()
    spy = Spy(fake)
    made = lambda scope, app: fake.async_client(scope, app, transport=spy)  # noqa: E731
    monkeypatch.setattr(mcp_cli, "_fake_client", made)
    argv = ["--scope", "deploy", "--app", "web", "--max-risk", "read", "--attenuate"]
    toolkit = mcp_cli.build_toolkit(mcp_cli.build_parser().parse_args(argv))
    await toolkit.acall("fly_get_machine", {"machine_id": WEB_1})
    (sent,) = permission_tokens(spy.sent_for("GET", f"/machines/{WEB_1}"))
    assert Machines({WEB_1: 1}) in sent.caveats
    assert fake.state.apps["web"].machines[WEB_1].state == "started"
    reach = "FlyV1 " + toolkit.client.token.reveal()  # what code past the tools holds
    assert send(fake, reach, "POST", f"/apps/web/machines/{WEB_1}/stop").status_code == 403
    assert send(fake, reach, "GET", f"/apps/web/machines/{WEB_1}").status_code == 403
    answered = [r.status for r in fake.requests if r.path.endswith(f"/machines/{WEB_1}")]
    assert answered == [200, 403]  # the call on its one-call token, then the reach token


async def test_mcp_without_attenuate_serves_the_token_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeFly.demo()
    monkeypatch.setattr(mcp_cli, "_fake_client", fake.async_client)
    argv = ["--scope", "deploy", "--app", "web", "--max-risk", "read"]
    toolkit = mcp_cli.build_toolkit(mcp_cli.build_parser().parse_args(argv))
    reach = "FlyV1 " + toolkit.client.token.reveal()
    assert send(fake, reach, "POST", f"/apps/web/machines/{WEB_1}/stop").status_code != 403
