"""Figure 2: 30 control calls under Fly's rate limits: time against the floor, and 429s seen."""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from benchmarks.harness import Figure, Target, table, tool_call
from fly_tools import FlyClient, FlyToolkit
from fly_tools.client import FLY_LIMITS
from fly_tools.models.config import MachineConfig
from fly_tools.testing import BASE_URL, FakeClock, FakeFly

SCALE = 10.0
"""Fake seconds per real second: Fly's 1 request/s becomes 10 real requests/s."""
SCENARIOS = [
    ("within 1 machine", 1, 30, 3),
    ("5 machines × 6", 5, 6, 7),
    ("across 10 machines", 10, 3, 15),
]
"""(label, machines, calls per machine, repeats): short scenarios repeat more, as noise
weighs more on a total of a few hundred milliseconds."""
QUICK_SCENARIOS = [("within 1 machine", 1, 5, 1), ("2 machines × 3", 2, 3, 1)]
PACED = "paced (fly_tools default)"
VARIANTS: dict[str, dict[str, Any]] = {
    PACED: {"rate_limit": True},
    "no pacing, retries honour Retry-After": {"rate_limit": False},
    "no pacing, no retries": {"rate_limit": False, "max_retries": 0},
}
TARGET_RATIO = 1.05


@dataclass
class Run:
    """One batch of calls: fake seconds taken, 429s Fly answered, calls that failed."""

    seconds: float
    server_429s: int
    agent_429s: int
    failed: int


def bulk_fake(machines: int, scale: float, rate_limits: bool) -> tuple[FakeFly, list[str]]:
    """An app ``bulk`` with ``machines`` started machines, built through the state API."""
    fake = FakeFly(clock=FakeClock.real(scale=scale), rate_limits=rate_limits)
    fake.state.create_app("bulk", fake.org)
    config = MachineConfig.model_validate({"image": "registry.fly.io/bulk:v1"})
    ids = []
    for n in range(machines):
        machine = fake.state.create_machine(
            "bulk", config, name=f"bulk-{n}", region="ord", skip_launch=True
        )
        machine.state = "started"
        ids.append(machine.id)
    return fake, ids


def signal_all(fake: FakeFly, order: list[str], **client_options: Any) -> Run:
    """Send SIGHUP to each machine in ``order``, one call after another, as an agent would."""
    client = FlyClient(
        fake.tokens["org"],
        base_url=BASE_URL,
        transport=fake.transport(),
        clock=fake.clock.now,
        sleep=fake.clock.sleep,
        **client_options,
    )
    tool = next(
        t
        for t in FlyToolkit(client=client, scope="org").get_tools()
        if t.name == "fly_signal_machine"
    )
    started = fake.clock.now()
    messages = [
        tool.invoke(tool_call(tool.name, {"app_name": "bulk", "machine_id": m, "signal": "SIGHUP"}))
        for m in order
    ]
    seconds = fake.clock.now() - started
    failed = [m for m in messages if m.status == "error"]
    return Run(
        seconds=seconds,
        server_429s=sum(r.status == 429 for r in fake.requests),
        agent_429s=sum("429" in str(m.content) for m in failed),
        failed=len(failed),
    )


def pacing_floor(order: list[str], service: float) -> float:
    """Fake seconds the calls need at best: each takes ``service``, buckets refill at Fly's rate."""
    limit = FLY_LIMITS["standard"]
    now, buckets = 0.0, dict[str, tuple[float, float]]()
    for key in order:
        tokens, updated = buckets.get(key, (float(limit.burst), 0.0))
        tokens = min(float(limit.burst), tokens + (now - updated) * limit.rate)
        if tokens < 1:
            now += (1 - tokens) / limit.rate
            tokens = 1.0
        buckets[key] = (tokens - 1, now)
        now += service
    return now


@dataclass
class Outcome:
    """One client in one scenario: medians over the repeats, and the worst run."""

    client: str
    seconds: float
    floor: float
    ratio: float
    worst: Run

    def row(self, label: str) -> list[object]:
        """The table row."""
        w = self.worst
        return [
            label,
            self.client,
            f"{self.seconds:.2f} s",
            f"{self.floor:.2f} s",
            f"{self.ratio:.3f}×",
            w.server_429s,
            w.agent_429s,
            w.failed,
        ]


def scenario(machines: int, per_machine: int, scale: float, repeats: int) -> list[Outcome]:
    """Every client on one scenario, ``repeats`` times, against a floor measured each time."""
    results: dict[str, list[tuple[Run, float]]] = {name: [] for name in VARIANTS}
    for _ in range(repeats):
        fake, ids = bulk_fake(machines, scale, rate_limits=False)
        order = ids * per_machine
        signal_all(fake, order, rate_limit=False)  # warms the process: first calls cost more
        free = signal_all(fake, order, rate_limit=False)
        floor = pacing_floor(order, free.seconds / len(order))
        for name, options in VARIANTS.items():
            fake, ids = bulk_fake(machines, scale, rate_limits=True)
            results[name].append((signal_all(fake, ids * per_machine, **options), floor))
    return [
        Outcome(
            client=name,
            seconds=statistics.median(run.seconds for run, _ in runs),
            floor=statistics.median(floor for _, floor in runs),
            ratio=statistics.median(run.seconds / floor for run, floor in runs),
            worst=max((run for run, _ in runs), key=lambda r: (r.failed, r.server_429s)),
        )
        for name, runs in results.items()
    ]


def run(quick: bool = False) -> Figure:
    """Measure figure 2 (``quick``: fewer calls at a faster clock)."""
    started = time.perf_counter()
    scale = 200.0 if quick else SCALE
    rows, targets = [], []
    for label, machines, per_machine, repeats in QUICK_SCENARIOS if quick else SCENARIOS:
        for outcome in scenario(machines, per_machine, scale, repeats):
            runs = f"{repeats} run{'s' if repeats != 1 else ''}"
            rows.append(outcome.row(f"{label} ({runs})"))
            if outcome.client == PACED:
                seen = float(outcome.worst.agent_429s)
                targets.append(Target(f"paced time / floor, {label}", outcome.ratio, TARGET_RATIO))
                targets.append(Target(f"429s the agent saw, {label}", seen, 0, "", False))
    headers = [
        "scenario",
        "client",
        "time (Fly s)",
        "floor",
        "time / floor",
        "429s Fly sent",
        "429s the agent saw",
        "failed calls",
    ]
    body = "\n\n".join([_intro(scale), table(headers, rows, "llrrrrrr"), _notes()])
    return Figure(
        2, "Bulk control calls under Fly's limits", body, targets, time.perf_counter() - started
    )


def _intro(scale: float) -> str:
    return (
        "Each call is `fly_signal_machine` (SIGHUP) through the tool, one after another, "
        "machines taken round-robin; the fake enforces Fly's limit for it (1 request/s per "
        f"machine, bursts of 3) on a clock running {scale:g}× real time, so times are in "
        "Fly seconds. The floor is the best any client could do: the same calls with "
        "every request sent the moment its bucket allows, each costing the per-call time "
        "measured with limits off in the same run. Medians over the runs shown (short "
        "scenarios run more often); 429 and failure counts from the worst run."
    )


def _notes() -> str:
    return (
        "A signal is the control call here because a restart cannot be repeated on a "
        "machine that is still restarting (Fly answers 412): a signal leaves the machine "
        "as it is, so the rate limit is the only thing that can slow a call or refuse it. "
        "Without pacing, a client that honours `Retry-After` still finishes near the "
        "floor, but only after Fly has refused the requests counted above; without "
        "retries each of those refusals reaches the agent as a failed call. Across "
        "machines the limits never bind and every client is as fast as the calls are."
    )


def main() -> int:
    figure = run(quick="--quick" in sys.argv)
    print(figure.body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
