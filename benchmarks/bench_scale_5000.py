"""Figure 5: an app with 5,000 machines: list latency and how much of it the model reads."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable

import httpx
from langchain_core.tools import BaseTool

from benchmarks.harness import (
    Figure,
    Target,
    Timing,
    count_o200k,
    interleaved,
    micros,
    table,
    tool_call,
)
from fly_tools import FlyClient, FlyToolkit
from fly_tools.models.config import MachineConfig
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.world import web_config

MACHINES = 5000
REGIONS = ("iad", "ord", "ams", "fra", "sin", "syd", "lhr", "nrt", "gru", "jnb")
STATES = ("started",) * 6 + ("stopped",) * 3 + ("suspended",)
TARGET_TOKENS = 2000


def big_app(machines: int) -> tuple[FakeFly, float]:
    """A fake whose app ``big`` has ``machines`` machines over 10 regions; seconds to build."""
    started = time.perf_counter()
    fake = FakeFly()
    fake.state.create_app("big", fake.org)
    config = MachineConfig.model_validate(web_config())
    for n in range(machines):
        machine = fake.state.create_machine(
            "big", config, name=f"big-{n}", region=REGIONS[n % len(REGIONS)], skip_launch=True
        )
        machine.state = STATES[(n // len(REGIONS)) % len(STATES)]
    return fake, time.perf_counter() - started


def run(quick: bool = False) -> Figure:
    """Measure figure 5 (``quick``: 200 machines, one round)."""
    started = time.perf_counter()
    machines = 200 if quick else MACHINES
    fake, build_seconds = big_app(machines)
    client = FlyClient(
        fake.tokens["org"], base_url=BASE_URL, transport=fake.transport(), rate_limit=False
    )
    tool = next(
        t
        for t in FlyToolkit(client=client, scope="org").get_tools()
        if t.name == "fly_list_machines"
    )
    timings = list_latency(fake, client, tool, rounds=1 if quick else 7)
    full = tool.invoke(tool_call(tool.name, {"app_name": "big"}))
    narrowed = tool.invoke(
        tool_call(tool.name, {"app_name": "big", "state": ["stopped"], "region": "fra"})
    )
    content = str(full.content)
    texts = [content, str(narrowed.content), json.dumps(full.artifact, separators=(",", ":"))]
    counts, method = count_o200k(texts, install=not quick)
    informative = _has_counts_and_hints(content, machines)
    targets = [
        Target(f"list content, {machines:,} machines", counts[0], TARGET_TOKENS, "tokens"),
        Target("content has counts and filter hints", float(informative), 1, "", False),
    ]
    lines = content.splitlines()
    excerpt = "\n".join([*lines[:5], "...", lines[-1]])
    body = "\n\n".join(
        [
            _latency_table(timings, machines, build_seconds),
            _size_table(texts, counts, method, machines),
            f"The content the model reads (first lines):\n\n```\n{excerpt}\n```",
        ]
    )
    return Figure(5, f"Scale: {machines:,} machines", body, targets, time.perf_counter() - started)


def list_latency(
    fake: FakeFly, client: FlyClient, tool: BaseTool, rounds: int
) -> dict[str, Timing]:
    """Listing every machine through the tool, the client alone, and bare httpx."""
    token = fake.tokens["org"]
    http = httpx.Client(
        base_url=client.base_url,
        transport=fake.transport(),
        headers={"Authorization": f"FlyV1 {token}"},
    )
    call = tool_call(tool.name, {"app_name": "big"})
    variants: dict[str, Callable[[], object]] = {
        "list tool: tool.invoke(ToolCall)": lambda: tool.invoke(call),
        "client.call (parsed JSON, no summary)": lambda: client.call(
            "fly_list_machines", {"app_name": "big"}
        ),
        "bare httpx GET + JSON": lambda: http.get("/apps/big/machines").json(),
    }
    with http:
        return interleaved(variants, rounds=rounds, batch=1, warmup=1)


def _has_counts_and_hints(content: str, machines: int) -> bool:
    return (
        re.match(rf"{machines} machines\.", content) is not None
        and "By state:" in content
        and "By region:" in content
        and "Narrow with" in content
    )


def _latency_table(timings: dict[str, Timing], machines: int, build_seconds: float) -> str:
    bare = timings["bare httpx GET + JSON"].median
    rows = [(name, t.spread(), f"{t.median / bare:.2f}×") for name, t in timings.items()]
    return (
        f"The app is built with the fake's state API ({machines:,} machines in "
        f"{build_seconds:.2f} s). Latency of listing all of them in-process (the fake "
        "serialises every machine on each call), median of rounds:\n\n"
        + table(["call", "latency", "vs bare httpx"], rows)
    )


def _size_table(texts: list[str], counts: list[int], method: str, machines: int) -> str:
    labels = [
        f"content, all {machines:,} machines",
        "content, state=stopped region=fra",
        "raw JSON (artifact)",
    ]
    rows = [
        (label, f"{len(text):,}", f"{n:,}")
        for label, text, n in zip(labels, texts, counts, strict=True)
    ]
    return f"Size ({method}):\n\n" + table(["what", "characters", "tokens"], rows)


def main() -> int:
    figure = run(quick="--quick" in sys.argv)
    print(figure.body)
    print(micros(figure.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
