"""Field types shared by the argument models and Fly's machine config: numbers, durations, paths, sizes.

One rule for every number a model sends: a boolean is never a number and a number is
never a boolean; whole numbers may come as ``8080``, ``8080.0`` or ``"8080"`` (models
often quote ids, ports and sizes) and nothing else; non-finite floats are refused.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

INT64_MAX = 2**63 - 1
"""The largest integer Fly's Go structs hold; also the longest duration, in nanoseconds."""

_WHOLE = re.compile(r"[+-]?[0-9]{1,19}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _whole_number(value: Any) -> Any:
    if value is None:  # OptionalInt: None passes, the field's default says whether it may
        return value
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number like 8080, not the boolean {value!r}")
    whole_text = isinstance(value, str) and _WHOLE.fullmatch(value)
    whole_float = isinstance(value, float) and math.isfinite(value) and value.is_integer()
    number: Any = int(value) if whole_text or whole_float else value
    if not isinstance(number, int):
        raise ValueError(f"must be a whole number like 8080; got {_shown(value)}")
    if not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise ValueError(f"must be a whole number between -2^63 and 2^63-1; got {_shown(value)}")
    return number


def _finite_number(value: Any) -> Any:
    if value is None:
        return value
    if isinstance(value, bool):
        raise ValueError(f"must be a number like 0.5, not the boolean {value!r}")
    number: Any = float(value) if isinstance(value, str) and _DECIMAL.fullmatch(value) else value
    # An int beyond float's range is as unsendable as infinity (and math.isfinite raises on it).
    finite = isinstance(number, float) and math.isfinite(number)
    if not finite and not (isinstance(number, int) and abs(number) < 2**1023):
        raise ValueError(f"must be a finite number like 0.5; got {_shown(value)}")
    return number


def _true_or_false(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"must be true or false; got {_shown(value)}")


Int = Annotated[int, BeforeValidator(_whole_number)]
"""A whole number: ``7``, ``7.0`` or ``"7"``; never a boolean, a fraction or beyond int64."""
Number = Annotated[float, BeforeValidator(_finite_number)]
"""A finite number (or its decimal text); never a boolean, NaN or infinity."""
Bool = Annotated[bool, BeforeValidator(_true_or_false)]
"""``true`` or ``false`` (also as the strings "true"/"false"); never a number."""
# ``Int | None`` would validate the same, but pydantic then shows a field's ge/le as
# "ge"/"le" instead of JSON Schema's minimum/maximum in the schema the model reads.
OptionalInt = Annotated[int | None, BeforeValidator(_whole_number)]
""":data:`Int` or ``None``."""
OptionalNumber = Annotated[float | None, BeforeValidator(_finite_number)]
""":data:`Number` or ``None``."""


def check_finite_tree(value: Any, where: str) -> None:
    """Raise ``ValueError`` naming the place of a NaN or infinity anywhere inside ``value``.

    JSON has no NaN or infinity: httpx would raise on them mid-call, so fields typed
    ``Any`` (headers, container extras, the raw machine config) are checked whole.
    """
    # A stack, not recursion: a hostile config nested thousands deep must get this error,
    # not a RecursionError.
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, place = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{place} is {item!r}; only finite numbers can be sent")
        if isinstance(item, dict):
            stack.extend((v, f"{place}.{k}") for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{place}[{i}]") for i, v in enumerate(item))


def _finite_tree(value: Any) -> Any:
    check_finite_tree(value, "value")
    return value


FiniteJson = Annotated[Any, AfterValidator(_finite_tree)]
"""Any JSON value with no NaN or infinity anywhere in it."""

# ---------------------------------------------------------------- durations

_GO_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|μs|ms|s|m|h))+")
_GO_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9}
_UNIT_NS |= {"m": 60 * 10**9, "h": 3600 * 10**9}
# Largest unit first: Go's own String() form without hours and minutes ("90s", "1.5s",
# "500ms", "1ns"), never an exponent, which ParseDuration cannot read.
_FORMAT_UNITS = (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1))
DURATION_FORM = (
    "a Go duration string like '30s', '1m30s' or '500ms', or a number of seconds "
    "(whole nanoseconds, from 0 up to 2562047h)"
)


def go_duration(nanoseconds: int) -> str:
    """``nanoseconds`` as text Go's ``time.ParseDuration`` reads exactly: "90s", "1.5s", "1ns"."""
    if nanoseconds == 0:
        return "0s"
    for unit, size in _FORMAT_UNITS:
        if nanoseconds >= size or unit == "ns":
            whole, fraction = divmod(nanoseconds, size)
            digits = len(str(size)) - 1
            decimals = f".{fraction:0{digits}d}".rstrip("0") if fraction else ""
            return f"{whole}{decimals}{unit}"
    raise AssertionError("unreachable: the last unit is the nanosecond")


def _nanoseconds(amount: Decimal, shown: str) -> int:
    if amount < 0:
        raise ValueError(f"a duration cannot be negative; got {shown}")
    if amount != amount.to_integral_value():
        raise ValueError(f"a duration is a whole number of nanoseconds (at least 1ns); got {shown}")
    if amount > INT64_MAX:
        raise ValueError(f"a duration can be at most 2562047h (Go's limit); got {shown}")
    return int(amount)


def _to_duration(value: Any) -> Any:
    # Numbers are read as seconds, the unit people and models mean; Fly would read them
    # as nanoseconds, so they never go out bare.
    if isinstance(value, bool):
        raise ValueError(f"a duration must be {DURATION_FORM}; got the boolean {value!r}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"a duration must be a finite number of seconds; got {value!r}")
        return go_duration(_nanoseconds(Decimal(repr(value)) * 10**9, f"{value!r} seconds"))
    if isinstance(value, str) and len(value) <= 64 and _GO_DURATION.fullmatch(value.strip()):
        text = value.strip()
        parts = _GO_PART.findall(text)
        total = sum((Decimal(number) * _UNIT_NS[unit] for number, unit in parts), Decimal(0))
        _nanoseconds(total, repr(text))
        return text
    raise ValueError(f"a duration must be {DURATION_FORM}; got {_shown(value)}")


Duration = Annotated[str, BeforeValidator(_to_duration)]
"""A Go duration string; numbers are accepted as seconds and converted (1.5 -> "1.5s")."""

# ---------------------------------------------------------------- paths

PATH_MAX = 4096
"""The longest path Linux accepts (``PATH_MAX``), and so the longest mount or file path."""


def _absolute_path(value: str) -> str:
    problems = []
    if not value.startswith("/"):
        problems.append("it is not absolute")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        problems.append("it contains control characters (NUL, CR, LF, tab ...)")
    if len(value) > PATH_MAX:
        problems.append(f"it is {len(value)} characters long")
    if problems:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(
            f"a path in the machine must be absolute, at most {PATH_MAX} characters and free "
            f"of control characters, e.g. '/data'; got {shown!r} ({'; '.join(problems)})"
        )
    return value


GuestPath = Annotated[
    str,
    AfterValidator(_absolute_path),
    WithJsonSchema({"type": "string", "pattern": "^/", "maxLength": PATH_MAX}),
]
"""An absolute path inside the machine (mount point, file path), at most ``PATH_MAX`` long."""

# ---------------------------------------------------------------- signals and sizes

Signal7 = Literal["SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGTERM"]
Signal14 = Literal[
    "SIGABRT",
    "SIGALRM",
    "SIGFPE",
    "SIGHUP",
    "SIGILL",
    "SIGINT",
    "SIGKILL",
    "SIGPIPE",
    "SIGQUIT",
    "SIGSEGV",
    "SIGTERM",
    "SIGTRAP",
    "SIGUSR1",
    "SIGUSR2",
]


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
