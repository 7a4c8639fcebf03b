"""Schema budget: the JSON tool definitions a chat model receives, in characters and o200k tokens."""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import dataclass

import httpx
from langchain_core.utils.function_calling import convert_to_openai_tool

from benchmarks.tokens import count_tokens
from fly_tools import FlyClient, FlyToolkit
from fly_tools.risk import GROUPS

VARIANTS: list[tuple[str, dict[str, object]]] = [
    ("org (all 31)", {"scope": "org"}),
    ("deploy", {"scope": "deploy"}),
    ("deploy, app-bound", {"scope": "deploy", "app": "web"}),
    ("readonly", {"scope": "readonly"}),
    ("readonly, app-bound", {"scope": "readonly", "app": "web"}),
    ("machine-exec", {"scope": "machine-exec"}),
    ("org, all groups", {"scope": "org", "groups": list(GROUPS)}),
]
FACADE = "facade (2 tools, all groups)"
"""The two-tool surface over every operation of an org toolkit with all groups."""
TARGETS = {"mean per tool": 110, "org (all 31)": 5000, "readonly, app-bound": 1300, FACADE: 1500}


@dataclass
class Budget:
    variant: str
    tools: int
    chars: int
    tokens: int
    per_tool: dict[str, int]


def _offline_client() -> FlyClient:
    return FlyClient(
        token="schema-budget",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})),
        rate_limit=False,
    )


def measure() -> tuple[list[Budget], str]:
    """Budgets for every variant, and the tokenizer used."""
    client = _offline_client()
    texts: list[str] = []
    layout: list[tuple[str, list[str]]] = []
    surfaces = [
        (variant, FlyToolkit(client=client, **kwargs).get_tools()) for variant, kwargs in VARIANTS
    ]
    every = FlyToolkit(client=client, scope="org", groups=list(GROUPS))
    surfaces.append((FACADE, every.facade_tools()))
    for variant, tools in surfaces:
        names = []
        for tool in tools:
            texts.append(json.dumps(convert_to_openai_tool(tool), separators=(",", ":")))
            names.append(tool.name)
        layout.append((variant, names))
    counts, method = count_tokens(texts)
    budgets, i = [], 0
    for variant, names in layout:
        chunk = slice(i, i + len(names))
        per_tool = dict(zip(names, counts[chunk], strict=True))
        chars = sum(len(t) for t in texts[chunk])
        budgets.append(Budget(variant, len(names), chars, sum(per_tool.values()), per_tool))
        i += len(names)
    return budgets, method


def report(budgets: list[Budget], method: str) -> str:
    """Markdown tables: totals per variant and tokens per tool (all 31)."""
    full = budgets[0]
    mean = statistics.mean(full.per_tool.values())
    lines = [
        f"Tokenizer: {method}. Definitions serialised compactly as sent to a chat model "
        "(`convert_to_openai_tool`).",
        "",
        "| toolkit | tools | characters | tokens | tokens/tool | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for b in budgets:
        target = TARGETS.get(b.variant)
        verdict = (
            "" if target is None else f"≤ {target}: {'met' if b.tokens <= target else 'MISSED'}"
        )
        lines.append(
            f"| {b.variant} | {b.tools} | {b.chars:,} | {b.tokens:,} | {b.tokens / b.tools:.0f} | {verdict} |"
        )
    facade = next(b for b in budgets if b.variant == FACADE)
    every = next(b for b in budgets if b.variant == "org, all groups")
    lines += [
        "",
        f"Facade: 2 tools for all {every.tools} operations of an org toolkit with all groups: "
        f"{facade.tokens:,} tokens, against {every.tokens:,} for their {every.tools} own tools "
        f"(target ≤ {TARGETS[FACADE]:,}).",
    ]
    goal = TARGETS["mean per tool"]
    verdict = "met" if mean <= goal else "MISSED"
    lines += ["", f"Mean per tool (all 31): {mean:.1f} tokens (target ≤ {goal}: {verdict}).", ""]
    lines += ["| tool | tokens |", "|---|---:|"]
    lines += [f"| {name} | {n} |" for name, n in sorted(full.per_tool.items(), key=lambda x: -x[1])]
    return "\n".join(lines)


def main() -> int:
    budgets, method = measure()
    print(report(budgets, method))
    return 0


if __name__ == "__main__":
    sys.exit(main())
