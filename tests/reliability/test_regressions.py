"""Regression tests for bugs the reliability suite and the benchmarks found in fly_tools."""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from fly_tools import ENDPOINTS, FlyClient, FlyToolkit, approve_all
from fly_tools.guards import redact_args
from fly_tools.testing import FakeFly
from fly_tools.testing.world import MACHINES
from tests.reliability.support import SECRET_VALUE, LeakScan, call_tool, tools_by_name


def test_redacting_a_long_argument_takes_linear_time() -> None:
    # The URL-password pattern once backtracked quadratically: 8,000 letters took ~0.5 s
    # and 100,000 about fifteen minutes, on every call (audit record and approval).
    endpoint = ENDPOINTS["fly_exec_machine"]
    args = {"app_name": "web", "machine_id": "abc", "command": ["ls"], "container": "x" * 100_000}
    started = time.perf_counter()
    redact_args(endpoint, args)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("fly_list_apps", {"org_slug": "acme", "app_role": "r" * 70_000}),
        (
            "fly_restart_machine",
            {"app_name": "web", "machine_id": MACHINES["web-1"], "timeout": "9" * 70_000 + "s"},
        ),
    ],
    ids=["bounded-by-the-model", "caught-by-the-client"],
)
def test_a_query_too_long_for_a_url_is_a_tool_error(
    leak_scan: LeakScan, tool: str, args: dict[str, object]
) -> None:
    # Past httpx's 65,536-character URL limit, httpx.InvalidURL once escaped tool.invoke.
    fake = leak_scan.watch(FakeFly.demo())
    toolkit = FlyToolkit(client=fake.client(), scope="org", confirm=approve_all)

    message = call_tool(tools_by_name(toolkit)[tool], args)

    assert message.status == "error"
    assert "nothing was sent" in str(message.content).lower()
    assert fake.requests == []


@pytest.mark.enable_socket
@pytest.mark.loopback
def test_fake_served_over_loopback_answers_keep_alive_requests_quickly(
    leak_scan: LeakScan,
) -> None:
    # serve() once made its socket with protocol 0, so asyncio never set TCP_NODELAY and
    # every keep-alive answer waited ~40 ms for a delayed ACK.
    fake = leak_scan.watch(FakeFly.demo())
    with fake.serve() as base_url, httpx.Client(base_url=base_url) as http:
        timings = []
        for _ in range(8):
            started = time.perf_counter()
            http.get("/v1/apps/web")  # 401 without a token: the answer's speed is the point
            timings.append(time.perf_counter() - started)
    assert statistics.median(timings[1:]) < 0.02


def test_a_secret_set_in_this_session_is_not_echoed_in_exec_output(leak_scan: LeakScan) -> None:
    fake = leak_scan.watch(FakeFly.demo())
    toolkit = FlyToolkit(client=fake.client(), scope="org", confirm=approve_all)
    tools = tools_by_name(toolkit)
    call_tool(
        tools["fly_set_secret"],
        {"app_name": "web", "secret_name": "API_KEY", "value": SECRET_VALUE},
    )

    message = call_tool(
        tools["fly_exec_machine"],
        {"app_name": "web", "machine_id": MACHINES["web-1"], "command": ["echo", SECRET_VALUE]},
    )

    assert message.status == "success"
    assert SECRET_VALUE not in str(message.content)


def test_a_toolkit_accepts_a_client_with_a_custom_sync_transport() -> None:
    # The async twin was once derived at construction, refusing sync-only transports.
    client = FlyClient("fm2_regression-token", transport=httpx.HTTPTransport(retries=1))

    toolkit = FlyToolkit(client=client, scope="readonly")

    offered = [e.name for e in ENDPOINTS.records if e.default and "readonly" in e.scopes]
    assert [t.name for t in toolkit.get_tools()] == offered
