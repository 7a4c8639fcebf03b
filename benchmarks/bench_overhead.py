"""Figure 1: per-call cost of the whole stack vs a minimal hand-written tool, and where it goes."""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from benchmarks.harness import Figure, Target, Timing, interleaved, micros, table
from benchmarks.harness import tool_call as make_call
from fly_tools import FlyClient, FlyToolkit, RateLimiter
from fly_tools.client import FLY_LIMITS, Limit
from fly_tools.testing import FakeFly
from fly_tools.testing.world import WEB_1
from fly_tools.tools.factory import FlyTool
from fly_tools.tools.langchain_hooks import HOOKS

ARGS = {"app_name": "web", "machine_id": WEB_1}
PATH = f"/apps/web/machines/{WEB_1}"
TARGET = 1.10


class GetMachineArgs(BaseModel):
    app_name: str = Field(description="Fly app name.")
    machine_id: str = Field(description="Machine id.")


def minimal_tool(http: httpx.Client) -> StructuredTool:
    """The floor: a hand-written tool making the same request and returning parsed JSON."""

    def get_machine(app_name: str, machine_id: str) -> Any:
        response = http.get(f"/apps/{app_name}/machines/{machine_id}")
        response.raise_for_status()
        return response.json()

    return StructuredTool.from_function(
        get_machine, name="get_machine", description="Show one machine.", args_schema=GetMachineArgs
    )


class Unhooked(FlyTool):
    """Our tool on LangChain's public route: its own validation and injected-key filter
    on every call (the private methods :mod:`fly_tools.tools.langchain_hooks` overrides)."""


for _hook in HOOKS:
    setattr(Unhooked, _hook, getattr(StructuredTool, _hook))


def unhooked(tool: StructuredTool) -> StructuredTool:
    """``tool`` (a fresh one: its class changes) as an :class:`Unhooked` tool."""
    assert isinstance(tool, FlyTool)
    object.__setattr__(tool, "__class__", Unhooked)
    return tool


@dataclass
class Stack:
    """The things compared, all on one transport (one connection pool)."""

    client: FlyClient
    tool: StructuredTool
    minimal: StructuredTool
    http: httpx.Client
    public: StructuredTool

    @classmethod
    def on(cls, transport: Any, base_url: str, token: str) -> Stack:
        # The limiter keeps its books on every call but never makes one wait.
        unlimited = RateLimiter({name: Limit(rate=1e9, burst=10**9) for name in FLY_LIMITS})
        client = FlyClient(token, base_url=base_url, transport=transport, rate_limit=unlimited)
        tool, other = (_get_machine(client) for _ in range(2))
        http = httpx.Client(
            base_url=client.base_url,
            transport=transport,
            headers={"Authorization": f"FlyV1 {token}"},
        )
        return cls(client, tool, minimal_tool(http), http, unhooked(other))

    def full(self) -> object:
        return self.tool.invoke(make_call("fly_get_machine", ARGS))

    def unhooked(self) -> object:
        return self.public.invoke(make_call("fly_get_machine", ARGS))

    def floor(self) -> object:
        return self.minimal.invoke(make_call("get_machine", ARGS))

    def bare(self) -> object:
        return self.http.get(PATH).json()

    def variants(self) -> dict[str, Callable[[], object]]:
        return {
            "full stack: tool.invoke(ToolCall)": self.full,
            "minimal StructuredTool": self.floor,
            "bare httpx request + JSON": self.bare,
            "full stack, no private LangChain hooks": self.unhooked,
        }

    def layers(self) -> dict[str, Callable[[], object]]:
        # StructuredTool.func is the tool's own entry point: the pipeline without LangChain.
        pipeline = self.tool.func
        assert pipeline is not None
        return {
            "bare": self.bare,
            "client": lambda: self.client.call("fly_get_machine", ARGS),
            "pipeline": lambda: pipeline(**ARGS),
            "full": self.full,
            "minimal": self.floor,
            "unhooked": self.unhooked,
        }


def _get_machine(client: FlyClient) -> StructuredTool:
    tools = FlyToolkit(client=client, scope="org").get_tools()
    tool = next(t for t in tools if t.name == "fly_get_machine")
    assert isinstance(tool, StructuredTool)
    return tool


def run(quick: bool = False) -> Figure:
    """Measure figure 1 (``quick``: a few calls, to check the script works)."""
    started = time.perf_counter()
    rounds, batch, warmup = (2, 3, 3) if quick else (45, 40, 200)
    fake = FakeFly.demo()
    with fake.serve() as url:
        stack = Stack.on(httpx.HTTPTransport(), url, fake.tokens["org"])
        loopback = interleaved(stack.variants(), rounds=rounds, batch=batch, warmup=warmup)
        stack.http.close()
    body_bytes = stack_body(fake)
    offline = Stack.on(_replay(body_bytes), "https://api.machines.dev", fake.tokens["org"])
    layers = interleaved(offline.layers(), rounds=rounds, batch=batch * 2, warmup=warmup)
    profile = profile_difference(offline, calls=20 if quick else 2000)
    full, minimal, _, public = (t.median for t in loopback.values())
    target = Target("full stack / minimal tool (loopback)", full / minimal, TARGET)
    body = "\n\n".join(
        [
            _loopback_table(loopback),
            _layers_table(layers),
            profile,
            _notes(full, minimal, layers) + _hooks_note(public, minimal, layers),
        ]
    )
    return Figure(1, "Per-call overhead", body, [target], time.perf_counter() - started)


def stack_body(fake: FakeFly) -> bytes:
    """The bytes Fly answers ``GET machine`` with, to replay without a server."""
    with httpx.Client(transport=fake.transport(), base_url="https://api.machines.dev/v1") as http:
        return http.get(PATH, headers={"Authorization": f"FlyV1 {fake.tokens['org']}"}).content


def _replay(body: bytes) -> httpx.MockTransport:
    headers = {"content-type": "application/json"}
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))


def _loopback_table(timings: dict[str, Timing]) -> str:
    _, minimal, bare, _ = (t.median for t in timings.values())
    rows = [
        (name, t.spread(), f"{t.median / minimal:.2f}×", f"{t.median / bare:.2f}×")
        for name, t in timings.items()
    ]
    return (
        "`fly_get_machine` against the fake served on 127.0.0.1 (uvicorn in a thread of the "
        "same process), one shared keep-alive connection pool, per call: median "
        "(interquartile range) of per-round means.\n\n"
        + table(["variant", "per call", "vs minimal", "vs bare httpx"], rows)
    )


def _layers_table(t: dict[str, Timing]) -> str:
    m = {name: timing.median for name, timing in t.items()}
    rows = [
        (
            "client: validation, request plan, limiter books, retry decision, parsing",
            micros(m["client"] - m["bare"]),
        ),
        (
            "tool pipeline: guard, audit record, content summary",
            micros(m["pipeline"] - m["client"]),
        ),
        (
            "LangChain around our tool (ToolCall in, ToolMessage out)",
            micros(m["full"] - m["pipeline"]),
        ),
        ("LangChain around the minimal tool", micros(m["minimal"] - m["bare"])),
        (
            "**added by fly_tools per call** (full − minimal)",
            f"**{micros(m['full'] - m['minimal'])}**",
        ),
        (
            "LangChain's own validation and injected-key filter (no private hooks − full)",
            micros(m["unhooked"] - m["full"]),
        ),
    ]
    return (
        "Where the time goes, measured layer by layer without a network (the same answer "
        "replayed by an in-process transport), as differences of medians:\n\n"
        + table(["layer", "cost per call"], rows)
    )


_BUCKETS = (
    ("/fly_tools/", "fly_tools"),
    ("langchain_core", "langchain_core"),
    ("pydantic", "pydantic"),
    ("httpx", "httpx/httpcore"),
    ("httpcore", "httpx/httpcore"),
    ("tenacity", "tenacity"),
)


def own_time(call: Callable[[], object], calls: int) -> Counter[tuple[str, str]]:
    """cProfile own time per call, by (package, function)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    spent: Counter[tuple[str, str]] = Counter()
    for (filename, line, function), (_, _, own, _, _) in stats.items():
        package = next((label for key, label in _BUCKETS if key in filename), "stdlib, builtins")
        spent[(package, f"{_short(filename)}:{line} {function}")] += own / calls
    return spent


def profile_difference(stack: Stack, calls: int) -> str:
    """Where the full stack spends more than the minimal tool: cProfile, per call."""
    full, floor = own_time(stack.full, calls), own_time(stack.floor, calls)
    packages: dict[str, list[float]] = {}
    for (package, _), seconds in full.items():
        packages.setdefault(package, [0.0, 0.0])[0] += seconds
    for (package, _), seconds in floor.items():
        packages.setdefault(package, [0.0, 0.0])[1] += seconds
    package_rows = [
        (name, micros(a), micros(b), micros(a - b))
        for name, (a, b) in sorted(packages.items(), key=lambda kv: kv[1][1] - kv[1][0])
    ]
    extra = Counter({key: full[key] - floor.get(key, 0.0) for key in full})
    function_rows = [
        (f"`{name}`", package, micros(s)) for (package, name), s in extra.most_common(12)
    ]
    return (
        f"cProfile of {calls:,} calls of each (no network; profiling inflates every "
        "figure alike), own time per call by package, then the twelve functions where "
        "the full stack spends the most beyond the minimal tool:\n\n"
        + table(["package", "full stack", "minimal tool", "difference"], package_rows)
        + "\n\n"
        + table(["function", "package", "extra per call"], function_rows, "llr")
    )


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/fly_tools/", "/lib/python"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return ("fly_tools/" + tail) if marker == "/fly_tools/" else tail
    return filename


def _notes(full: float, minimal: float, layers: dict[str, Timing]) -> str:
    m = {name: timing.median for name, timing in layers.items()}
    ours = m["full"] - m["minimal"]
    langchain = (m["full"] - m["pipeline"]) - (m["minimal"] - m["bare"])
    projected = [
        f"{(rtt + m['full']) / (rtt + m['minimal']):.3f}× at {rtt * 1e3:.0f} ms"
        for rtt in (0.01, 0.05)
    ]
    return (
        f"Over loopback the whole stack costs {micros(full)} per call against "
        f"{micros(minimal)} for the minimal tool ({full / minimal:.2f}×). Without a network "
        f"fly_tools adds {micros(ours)} per call; of that, "
        f"{micros(m['client'] - m['bare'])} is the client and "
        f"{micros(m['pipeline'] - m['client'])} the tool pipeline, and "
        f"{micros(langchain)} the difference between what LangChain does around our tool "
        "and around the minimal one (our tool leaves argument validation to its pipeline, "
        "so it is done once, and works out what LangChain asks of it once per tool, not "
        "per call). The fake answers a loopback request in about a millisecond, so this "
        "ratio is the worst case: with Fly's real round trip added to both sides the same "
        f"costs give {' and '.join(projected)} (projection, not measured).\n\n"
    )


def _hooks_note(public: float, minimal: float, layers: dict[str, Timing]) -> str:
    m = {name: timing.median for name, timing in layers.items()}
    return (
        "Without its private LangChain hooks (`fly_tools/tools/langchain_hooks.py`: "
        "LangChain validating the arguments before the pipeline does, and working out the "
        f"injected keys on every call) the same tool costs {micros(public)} over loopback, "
        f"{public / minimal:.2f}× the minimal tool; the hooks save "
        f"{micros(m['unhooked'] - m['full'])} per call.\n\n"
    )


def main() -> int:
    figure = run(quick="--quick" in sys.argv)
    print(figure.body)
    for target in figure.targets:
        print(f"{target.name}: {target.measured:.2f} (goal {target.goal()}, met={target.met})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
