"""Figure 7: agents in 4 processes sharing Fly's limits through Redis: 429s, and time against the floor."""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from benchmarks import redis_server
from benchmarks.bench_bulk_limits import bulk_fake
from benchmarks.harness import Figure, Target, table
from fly_tools.catalogue import FLY_LIMITS, Limit

SCALE = 2.0
"""Fake seconds per real second: Fly's 1 request/s becomes 2 real requests/s (limits and
the fake's clock alike). Faster clocks shrink the 1% margin below the scheduling jitter
of five busy processes on two cores, which Fly's real 1 s interval never sees."""
PROCESSES = 4
CALLS = 10
SCENARIOS = [("1 machine", 1, 2), ("5 machines", 5, 5)]
"""(label, machines, repeats of the shared limiter): the short scenario repeats more, as
noise weighs more on it. The in-process limiter runs once: it shows the 429s, not a time."""
SHARED = "shared (Redis)"
VARIANTS = {SHARED: "redis", "in-process (each process alone)": "memory"}
TARGET_RATIO = 1.05
STARTUP_TIMEOUT = 120.0


def scaled_limits(scale: float) -> dict[str, Limit]:
    """Fly's limits on a clock running ``scale`` times real time."""
    return {name: Limit(limit.rate * scale, limit.burst) for name, limit in FLY_LIMITS.items()}


@dataclass(frozen=True)
class Job:
    """What one agent process does: its calls, and how it paces them."""

    base_url: str
    token: str
    limiter: str
    prefix: str
    scale: float
    order: tuple[str, ...]


def agent(job: Job, ready: Barrier, go: Event, results: Any) -> None:
    """One agent process: warm up, wait for the start, signal machines in order, report."""
    from fly_tools.client import FlyClient, FlyError, RateLimitedError, RateLimiter, RedisLimiter

    limits = scaled_limits(job.scale)
    limiter: Any = (
        RateLimiter(limits)
        if job.limiter == "memory"
        else RedisLimiter(job.limiter, limits=limits, prefix=job.prefix)
    )
    with FlyClient(job.token, base_url=job.base_url, limiter=limiter) as client:
        try:
            client.call("fly_get_app", {"app_name": "bulk"})  # opens the connection
            limiter.acquire(("warm-up", job.prefix), "standard")  # opens Redis's
        except BaseException:
            ready.abort()  # the parent stops waiting at once
            raise
        ready.wait(STARTUP_TIMEOUT)
        go.wait(STARTUP_TIMEOUT)
        seen = failed = 0
        for machine in job.order:
            args = {"app_name": "bulk", "machine_id": machine, "signal": "SIGHUP"}
            try:
                client.call("fly_signal_machine", args)
            except RateLimitedError:
                seen += 1
            except FlyError:
                failed += 1
        results.put((time.monotonic(), seen, failed))


@dataclass
class Run:
    """One run: Fly seconds from start to the last answer, 429s sent and seen, failures."""

    seconds: float
    floor: float
    server_429s: int
    agent_429s: int
    failed: int


def orders(ids: list[str], processes: int, calls: int) -> list[tuple[str, ...]]:
    """Each process takes the machines round-robin, starting at its own."""
    return [tuple(ids[(p + i) % len(ids)] for i in range(calls)) for p in range(processes)]


def run_once(limiter: str, machines: int, *, scale: float, processes: int, calls: int) -> Run:
    """Start ``processes`` agents against a fresh fake served on loopback; time them."""
    fake, ids = bulk_fake(machines, scale, rate_limits=True)
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Barrier(processes + 1), context.Event(), context.Queue()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"  # fresh buckets in Redis for every run
    plans = orders(ids, processes, calls)
    with fake.serve() as base_url:
        jobs = [Job(base_url, fake.tokens["org"], limiter, prefix, scale, o) for o in plans]
        workers = [context.Process(target=agent, args=(j, ready, go, results)) for j in jobs]
        for worker in workers:
            worker.start()
        ready.wait(STARTUP_TIMEOUT)
        service = _service_seconds(fake, base_url, ids[0]) * scale
        fake.rate_limits = True  # fresh buckets after the warm-up calls
        fake.clear_requests()
        started = time.monotonic()
        go.set()
        reports = [results.get(timeout=STARTUP_TIMEOUT) for _ in workers]
        for worker in workers:
            worker.join(STARTUP_TIMEOUT)
    return Run(
        seconds=(max(end for end, _, _ in reports) - started) * scale,
        floor=pacing_floor(plans, service, FLY_LIMITS["standard"]),
        server_429s=sum(r.status == 429 for r in fake.requests),
        agent_429s=sum(seen for _, seen, _ in reports),
        failed=sum(failed for _, _, failed in reports),
    )


def _service_seconds(fake: Any, base_url: str, machine: str) -> float:
    """Median real seconds of one unpaced call over loopback (get-machine allows 10)."""
    from fly_tools.client import FlyClient

    samples = []
    with FlyClient(fake.tokens["org"], base_url=base_url, rate_limit=False) as client:
        for _ in range(8):
            started = time.perf_counter()
            client.call("fly_get_machine", {"app_name": "bulk", "machine_id": machine})
            samples.append(time.perf_counter() - started)
    return statistics.median(samples[1:])


def pacing_floor(plans: list[tuple[str, ...]], service: float, limit: Limit) -> float:
    """Fly seconds the calls need at best: every call sent the moment both its process is
    free and its machine's bucket allows, each taking ``service``."""
    free = [0.0] * len(plans)
    done = [0] * len(plans)
    buckets: dict[str, tuple[float, float]] = {}

    def start(p: int) -> tuple[float, float]:
        tokens, updated = buckets.get(plans[p][done[p]], (float(limit.burst), 0.0))
        tokens = min(float(limit.burst), tokens + (free[p] - updated) * limit.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / limit.rate
        return free[p] + wait, tokens + wait * limit.rate

    while any(d < len(plan) for d, plan in zip(done, plans, strict=True)):
        p = min(
            (q for q in range(len(plans)) if done[q] < len(plans[q])), key=lambda q: start(q)[0]
        )
        at, tokens = start(p)
        buckets[plans[p][done[p]]] = (tokens - 1, at)
        free[p], done[p] = at + service, done[p] + 1
    return max(free)


def run(quick: bool = False) -> Figure:
    """Measure figure 7 (``quick``: fewer calls, one run each, at a faster clock)."""
    started = time.perf_counter()
    if not redis_server.available():
        body = "Not measured: `redis-server` is not on PATH (`apt-get install -y redis-server`)."
        return Figure(7, "Shared limits across processes", body, [], time.perf_counter() - started)
    scale, calls = (20.0, 4) if quick else (SCALE, CALLS)
    rows, targets = [], []
    with redis_server.RedisServer() as server:
        for where, machines, repeats in SCENARIOS:
            label = f"{PROCESSES} processes × {calls} calls, {where}"
            for name, kind in VARIANTS.items():
                limiter = server.url if kind == "redis" else "memory"
                runs = [
                    run_once(limiter, machines, scale=scale, processes=PROCESSES, calls=calls)
                    for _ in range(repeats if name == SHARED and not quick else 1)
                ]
                ratio = statistics.median(r.seconds / r.floor for r in runs)
                worst = max(runs, key=lambda r: (r.agent_429s, r.failed, r.server_429s))
                rows.append(_row(label, name, runs, ratio, worst))
                if name == SHARED:
                    targets.append(Target(f"time / floor, {label}", ratio, TARGET_RATIO))
                    seen = float(worst.agent_429s)
                    targets.append(Target(f"429s agents saw, {label}", seen, 0, "", False))
    headers = [
        "scenario",
        "limiter",
        "time (Fly s)",
        "floor",
        "time / floor",
        "429s Fly sent",
        "429s agents saw",
        "failed calls",
    ]
    body = "\n\n".join([_intro(scale, calls), table(headers, rows, "llrrrrrr"), _notes()])
    return Figure(7, "Shared limits across processes", body, targets, time.perf_counter() - started)


def _row(label: str, name: str, runs: list[Run], ratio: float, worst: Run) -> list[object]:
    seconds = statistics.median(r.seconds for r in runs)
    floor = statistics.median(r.floor for r in runs)
    count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    return [
        f"{label} ({count})",
        name,
        f"{seconds:.2f} s",
        f"{floor:.2f} s",
        f"{ratio:.3f}×",
        worst.server_429s,
        worst.agent_429s,
        worst.failed,
    ]


def _intro(scale: float, calls: int) -> str:
    return (
        f"{PROCESSES} agent processes (spawned, each with its own `FlyClient`) send {calls} "
        "`fly_signal_machine` calls each, one after another, to the fake Fly API served over "
        "HTTP on 127.0.0.1 with Fly's limits on (1 request/s per machine, bursts of 3), on a "
        f"clock running {scale:g}× real time: times are in Fly seconds. With 5 machines each "
        "process takes them round-robin from its own. The shared limiter is `RedisLimiter` "
        "on a `redis-server` started for the run; the in-process one is today's default, "
        "each process pacing alone. The floor is the best any client could do: every call "
        "sent the moment its process is free and its machine's bucket allows, each costing "
        "the median time of an unpaced call measured in the same run. Medians over the runs "
        "shown; 429 and failure counts from the worst run."
    )


def _notes() -> str:
    return (
        "Processes pacing alone each spend the machine's burst and rate as if they were "
        "the only caller, so Fly refuses what they send together; the client honours "
        "`Retry-After` and retries, which hides most refusals from the agents at the cost "
        "of the 429s counted above. (Their times are not comparable: the client sleeps "
        "`Retry-After` in real seconds while the fake's clock runs faster.) The shared limiter keeps one bucket per (action, "
        "machine) in Redis, on the Redis server's clock, spaced 1% wider than Fly's limit "
        "as the in-process limiter is: Fly should refuse nothing."
    )


def main() -> int:
    figure = run(quick="--quick" in sys.argv)
    print(figure.body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
