"""What every figure shares: interleaved timing, targets, transports, tokens, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import httpx
from langchain_core.messages import ToolCall

from benchmarks import tokens
from fly_tools.testing.http import FakeTransport

HERE = Path(__file__).resolve().parent
PACKAGES = (
    "fly-tools",
    "langchain-core",
    "langchain",
    "langgraph",
    "pydantic",
    "httpx",
    "httpcore",
    "tenacity",
    "uvicorn",
)


@dataclass(frozen=True)
class Target:
    """A goal from the issue and whether the measurement meets it.

    Attributes:
        name: what is measured, e.g. ``"full stack / minimal tool"``.
        measured: the value.
        limit: the goal.
        unit: how to print both (``"×"``, ``"tokens"``, ``"%"``, ``""``).
        at_most: ``True`` for "≤ limit", ``False`` for "= limit" (counts such as 429s).
    """

    name: str
    measured: float
    limit: float
    unit: str = "×"
    at_most: bool = True

    @property
    def met(self) -> bool:
        """Whether the measurement meets the goal."""
        return self.measured <= self.limit if self.at_most else self.measured == self.limit

    def goal(self) -> str:
        """``≤ 1.10×`` or ``= 0``."""
        return f"{'≤' if self.at_most else '='} {number(self.limit, self.unit)}"


@dataclass
class Figure:
    """One figure of RESULTS.md.

    Attributes:
        number: 1-6, as in the issue.
        title: a short title.
        body: markdown: tables and the notes that explain them.
        targets: the goals it is judged by.
        seconds: how long measuring took.
    """

    number: int
    title: str
    body: str
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0


def number(value: float, unit: str = "") -> str:
    """A value for a table: ratios with two decimals, big counts with separators."""
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "%":
        return f"{value:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,}" + (f" {unit}" if unit else "")
    return f"{value:,.3g}" + (f" {unit}" if unit else "")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A markdown table; ``align`` has one ``l``/``r`` per column (default: first left)."""
    align = align or "l" + "r" * (len(headers) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def micros(seconds: float) -> str:
    """Seconds as microseconds or milliseconds, whichever reads better."""
    return f"{seconds * 1e6:,.0f} µs" if seconds < 0.01 else f"{seconds * 1e3:,.1f} ms"


# ---------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """Per-call seconds over repeated rounds: median and quartiles."""

    median: float
    p25: float
    p75: float
    rounds: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Timing:
        """Summarise per-call samples."""
        ordered = sorted(samples)
        quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else ordered * 3
        return cls(statistics.median(ordered), quartiles[0], quartiles[2], len(ordered))

    def spread(self) -> str:
        """``1,234 µs (1,200–1,300)``."""
        return f"{micros(self.median)} ({micros(self.p25)}–{micros(self.p75)})"


def interleaved(
    variants: Mapping[str, Callable[[], object]], *, rounds: int, batch: int, warmup: int
) -> dict[str, Timing]:
    """Time each variant per call, alternating them round by round so drift hits all alike.

    Each round runs every variant ``batch`` times in a rotated order and keeps the mean
    per call; the result is the median (and quartiles) of those means.
    """
    names = list(variants)
    for name in names:
        for _ in range(warmup):
            variants[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            call = variants[name]
            started = time.perf_counter()
            for _ in range(batch):
                call()
            samples[name].append((time.perf_counter() - started) / batch)
    return {name: Timing.of(values) for name, values in samples.items()}


def tool_call(name: str, args: Mapping[str, Any], call_id: str = "bench") -> ToolCall:
    """The tool call a chat model would emit."""
    return ToolCall(name=name, args=dict(args), id=call_id, type="tool_call")


# ---------------------------------------------------------------- transports


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Passes requests on and keeps the last response body (the raw JSON Fly sent)."""

    def __init__(self, inner: FakeTransport) -> None:
        self.inner = inner
        self.last_body = b""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward a sync request and keep the answer's bytes."""
        response = self.inner.handle_request(request)
        self.last_body = response.read()
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward an async request and keep the answer's bytes."""
        response = await self.inner.handle_async_request(request)
        self.last_body = await response.aread()
        return response


# ---------------------------------------------------------------- tokens


def count_o200k(texts: list[str], *, install: bool) -> tuple[list[int], str]:
    """o200k counts of ``texts`` and the method used.

    With ``install=False`` (quick runs, tests) nothing is downloaded: the tokenizer is
    used only if it is already installed, else characters / 3 stands in (labelled).
    """
    installed = (tokens.HERE / "node_modules" / "gpt-tokenizer").exists()
    if install or installed:
        return tokens.count_tokens(texts)
    return [round(len(t) / 3) for t in texts], "estimate: characters / 3 (tokenizer not installed)"


# ---------------------------------------------------------------- the machine


def describe_machine() -> list[tuple[str, str]]:
    """What the numbers were measured on: CPU, cores, memory, OS, Python, packages."""
    rows = [
        ("CPU", _cpu_model()),
        ("Cores", f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable"),
        ("Memory", _memory()),
        ("Load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Node (tokenizer)", _node_version()),
    ]
    rows += [(name, _version(name)) for name in PACKAGES]
    return rows


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _node_version() -> str:
    try:
        result = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    return result.stdout.strip() or "not installed"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
