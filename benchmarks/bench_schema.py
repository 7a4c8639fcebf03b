"""Figure 3: the tool schema budget per scope and app binding (wraps schema_budget.py)."""

from __future__ import annotations

import statistics
import sys
import time
from unittest import mock

from benchmarks import schema_budget
from benchmarks.harness import Figure, Target, count_o200k


def run(quick: bool = False) -> Figure:
    """Measure figure 3 (``quick``: never installs the tokenizer; estimates without it)."""
    started = time.perf_counter()

    def counter(texts: list[str]) -> tuple[list[int], str]:
        return count_o200k(texts, install=not quick)

    # schema_budget counts through its own import of count_tokens; quick runs must not
    # reach the npm registry, so the counter is swapped for one that never installs.
    with mock.patch.object(schema_budget, "count_tokens", counter):
        budgets, method = schema_budget.measure()
    by_name = {b.variant: b for b in budgets}
    mean = statistics.mean(by_name["org (all 31)"].per_tool.values())
    targets = [
        Target("mean tokens per tool (all 31)", round(mean, 1), 110, "tokens"),
        Target("all 31 tools", by_name["org (all 31)"].tokens, 5000, "tokens"),
        Target("read-only, app-bound", by_name["readonly, app-bound"].tokens, 1300, "tokens"),
        Target("facade, both tools", by_name[schema_budget.FACADE].tokens, 1500, "tokens"),
    ]
    body = schema_budget.report(budgets, method)
    return Figure(3, "Tool schema budget", body, targets, time.perf_counter() - started)


def main() -> int:
    print(run(quick="--quick" in sys.argv).body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
