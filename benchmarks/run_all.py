"""`make bench`: measure every figure of the benchmarks issue and write benchmarks/RESULTS.md.

Usage: ``python benchmarks/run_all.py [--only N ...] [--quick] [--output PATH]``. All eight
figures take a few minutes; ``--quick`` makes tiny runs that check the scripts, not speed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable as a package
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from benchmarks.harness import Figure

FIGURES = {
    1: ("bench_overhead", "Per-call overhead"),
    2: ("bench_bulk_limits", "Bulk control calls under Fly's limits"),
    3: ("bench_schema", "Tool schema budget"),
    4: ("bench_content_size", "Content size vs raw JSON"),
    5: ("bench_scale_5000", "Scale: 5,000 machines"),
    6: ("bench_cold_start", "Cold start"),
    7: ("bench_shared_limits", "Shared limits across processes"),
    8: ("injection", "Prompt injection through untrusted text"),
}
OUTPUT = ROOT / "benchmarks" / "RESULTS.md"


@dataclass
class Failure:
    """A figure whose script raised: reported in RESULTS.md instead of its numbers."""

    number: int
    title: str
    error: str


def measure(numbers: Sequence[int], quick: bool) -> list[Figure | Failure]:
    """Run the chosen figures in order; a failing one is recorded and the rest still run."""
    results: list[Figure | Failure] = []
    for number in numbers:
        module_name, title = FIGURES[number]
        print(f"figure {number}: {title} ...", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{module_name}")
            figure = module.run(quick=quick)
        except Exception:
            failure = Failure(number, title, traceback.format_exc(limit=6))
            results.append(failure)
            print(f"figure {number} failed:\n{failure.error}", flush=True)
            continue
        results.append(figure)
        verdicts = ", ".join("met" if t.met else "MISSED" for t in figure.targets)
        print(f"figure {number}: done in {figure.seconds:.0f} s ({verdicts})", flush=True)
    return results


def render(results: Sequence[Figure | Failure], *, quick: bool, seconds: float) -> str:
    """RESULTS.md: the machine, every target with its verdict, then each figure."""
    from benchmarks.harness import describe_machine, number, table

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python benchmarks/run_all.py`) on {when} in "
        f"{seconds:.0f} s. Every ratio compares runs measured in the same process and "
        "session; times are medians of repeated runs. Networking is loopback only "
        "(127.0.0.1) or in-process.",
    ]
    if quick:
        lines += ["", "**Quick mode: tiny runs that check the scripts work. Not measurements.**"]
    lines += ["", "## Machine", "", table(["", ""], describe_machine(), "ll"), "", "## Targets", ""]
    rows = []
    for result in results:
        if isinstance(result, Failure):
            rows.append([str(result.number), result.title, "", "", "**figure failed**"])
            continue
        for target in result.targets:
            verdict = "met" if target.met else "**missed**"
            rows.append(
                [
                    str(result.number),
                    target.name,
                    target.goal(),
                    number(target.measured, target.unit),
                    verdict,
                ]
            )
    lines.append(table(["figure", "target", "goal", "measured", "verdict"], rows, "llrrl"))
    met = sum(r[-1] == "met" for r in rows)
    lines += ["", f"{met} of {len(rows)} targets met.", ""]
    for result in results:
        lines += _section(result)
    return "\n".join(lines).rstrip() + "\n"


def _section(result: Figure | Failure) -> list[str]:
    if isinstance(result, Failure):
        return [
            f"## {result.number}. {result.title}",
            "",
            "The script failed:",
            "",
            "```",
            result.error.rstrip(),
            "```",
            "",
        ]
    return [
        f"## {result.number}. {result.title}",
        "",
        result.body.strip(),
        "",
        f"_Measured in {result.seconds:.0f} s._",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write RESULTS.md, and exit 1 if any figure's script failed."""
    parser = argparse.ArgumentParser(description="Run the benchmarks; write RESULTS.md.")
    parser.add_argument("--quick", action="store_true", help="tiny runs (checks, not numbers)")
    parser.add_argument("--only", type=int, nargs="+", choices=sorted(FIGURES), metavar="N")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the report")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = measure(args.only or sorted(FIGURES), args.quick)
    report = render(results, quick=args.quick, seconds=time.perf_counter() - started)
    args.output.write_text(report, encoding="utf-8")
    print(f"wrote {args.output}")
    return 1 if any(isinstance(r, Failure) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
