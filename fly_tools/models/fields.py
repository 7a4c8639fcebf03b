"""Field types shared by the argument models and Fly's machine config: durations, signals, sizes."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

_GO_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+")


def _to_duration(value: Any) -> Any:
    # Integers are read as seconds, the unit people and models mean; Fly would read
    # them as nanoseconds, so they never go out bare.
    if isinstance(value, bool):
        raise ValueError("a duration must be a string like '30s' or a number of seconds")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return f"{value:g}s"
    if isinstance(value, str) and _GO_DURATION.fullmatch(value.strip()):
        return value.strip()
    raise ValueError(
        f"a duration must be a Go duration string like '30s', '1m30s' or '500ms' "
        f"(or a number of seconds); got {value!r}"
    )


Duration = Annotated[str, BeforeValidator(_to_duration)]
"""A Go duration string; integers are accepted as seconds and converted."""

Signal7 = Literal["SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM"]
Signal14 = Literal[
    "SIGABRT", "SIGALRM", "SIGFPE", "SIGHUP", "SIGILL", "SIGINT", "SIGKILL",
    "SIGPIPE", "SIGQUIT", "SIGSEGV", "SIGTERM", "SIGTRAP", "SIGUSR1", "SIGUSR2",
]  # fmt: skip


CPU_COUNTS = (1, 2, 4, 6, 8, 10, 12, 14, 16)
# Memory per vCPU allowed by Fly for each cpu kind (fly-go's constants), in MB.
MEMORY_PER_CPU = {"shared": (256, 2048), "performance": (2048, 8192)}


def check_guest_size(cpu_kind: str | None, cpus: int | None, memory_mb: int | None) -> None:
    """Raise ``ValueError`` when a guest size is outside what Fly allows."""
    if cpus is not None and cpus not in CPU_COUNTS:
        raise ValueError(f"cpus must be one of {', '.join(map(str, CPU_COUNTS))}; got {cpus}")
    if memory_mb is None:
        return
    if memory_mb % 256:
        raise ValueError(f"memory_mb must be a multiple of 256; got {memory_mb}")
    kind = cpu_kind or "shared"
    low, high = MEMORY_PER_CPU[kind]
    n = cpus or 1
    if not low * n <= memory_mb <= high * n:
        raise ValueError(
            f"memory_mb for {n} {kind} cpu(s) must be {low * n}-{high * n}; got {memory_mb}"
        )
