"""200 concurrent async tool calls with Fly's limits on: limits held, no deadlock, 200 audits."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

from langchain_core.messages import ToolMessage

from fly_tools import AsyncFlyClient, FlyToolkit, MemorySink
from fly_tools.client import FLY_LIMITS
from fly_tools.guards import AuditLog
from fly_tools.testing import BASE_URL, FakeFly, LoggedRequest
from fly_tools.testing.world import MACHINES
from tests.reliability.support import LeakScan, acall_tool, tools_by_name
from tests.reliability.virtual_time import LoopClock, VirtualTimeLoop

STARTED = [MACHINES["web-1"], MACHINES["web-2"], MACHINES["worker-1"]]
APP_OF = {MACHINES["web-1"]: "web", MACHINES["web-2"]: "web", MACHINES["worker-1"]: "worker"}
DEADLINE = 600.0
"""Virtual seconds the whole batch may take before it counts as stuck."""


def workload() -> list[tuple[str, dict[str, Any]]]:
    """200 calls, shuffled: each (action, target) pair is called 5 to 30 times."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for machine in STARTED:
        where = {"app_name": APP_OF[machine], "machine_id": machine}
        calls += [("fly_get_machine", where)] * 30
        calls += [("fly_signal_machine", {**where, "signal": "SIGUSR1"})] * 15
        calls += [("fly_list_machine_events", where)] * 5
    for app in ("web", "worker"):
        calls += [("fly_list_machines", {"app_name": app})] * 15
        calls += [("fly_list_secrets", {"app_name": app})] * 10
    random.Random(7).shuffle(calls)
    return calls


def over_the_limit(log: list[LoggedRequest], slack: float = 1e-6) -> list[str]:
    """Requests the client sent before Fly's limits allowed, replaying the fake's log.

    ``slack`` forgives float rounding: the client paces exactly to each refill, so a
    request may arrive a rounding error early; the fake then answers 429 and the
    client retries (the agent never sees it). Arriving earlier than that is a failure.
    """
    buckets: dict[tuple[str | None, str], tuple[float, float]] = {}
    early = []
    for request in log:
        limit = FLY_LIMITS["get_machine" if request.endpoint == "fly_get_machine" else "standard"]
        key = (request.endpoint, request.path)
        tokens, updated = buckets.get(key, (float(limit.burst), request.at))
        tokens = min(float(limit.burst), tokens + (request.at - updated) * limit.rate)
        if tokens < 1 - slack:
            early.append(f"{request.method} {request.path} at {request.at:.6f}")
        if request.status != 429:
            tokens -= 1
        buckets[key] = (tokens, request.at)
    return early


def pacing_floor(calls: list[tuple[str, dict[str, Any]]]) -> float:
    """Seconds the busiest bucket needs under Fly's limits when all calls start at once."""
    buckets = Counter((tool, args.get("machine_id") or args["app_name"]) for tool, args in calls)
    rate_class = {"fly_get_machine": "get_machine"}
    return max(
        max(0, n - FLY_LIMITS[rate_class.get(tool, "standard")].burst)
        / FLY_LIMITS[rate_class.get(tool, "standard")].rate
        for (tool, _), n in buckets.items()
    )


async def call_all(
    toolkit: FlyToolkit, calls: list[tuple[str, dict[str, Any]]]
) -> list[ToolMessage]:
    tools = tools_by_name(toolkit)
    batch = [acall_tool(tools[name], args, f"call-{n}") for n, (name, args) in enumerate(calls)]
    return await asyncio.wait_for(asyncio.gather(*batch), timeout=DEADLINE)


def test_two_hundred_concurrent_calls_hold_flys_limits(leak_scan: LeakScan) -> None:
    loop = VirtualTimeLoop()
    fake = leak_scan.watch(FakeFly.demo(clock=LoopClock(loop), rate_limits=True))
    client = AsyncFlyClient(
        fake.tokens["org"],
        base_url=BASE_URL,
        transport=fake.transport(),
        rate_limit=True,
        clock=loop.time,
        sleep=asyncio.sleep,
    )
    sink = MemorySink()
    toolkit = FlyToolkit(client=client, scope="org", audit=AuditLog(sink))
    calls = workload()
    real_start = time.perf_counter()
    try:
        messages = loop.run_until_complete(call_all(toolkit, calls))
    finally:
        loop.close()

    assert len(calls) == 200
    assert [m.status for m in messages] == ["success"] * 200
    calls_seen = [r for r in fake.requests if not r.path.startswith("/v1/tokens/")]
    assert Counter(r.status for r in calls_seen)[200] == 200
    assert over_the_limit(fake.requests) == []
    floor = pacing_floor(calls)
    assert floor <= loop.time() <= floor + 0.5, "pacing should be neither late nor early"
    assert len(sink.records) == 200
    assert Counter(r.outcome for r in sink.records) == {"ok": 200}
    assert sorted(r.tool for r in sink.records) == sorted(name for name, _ in calls)
    assert time.perf_counter() - real_start < 30, "virtual time should make this quick"
