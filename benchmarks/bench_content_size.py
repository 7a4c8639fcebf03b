"""Figure 4: what the model reads (tool content) against the raw JSON Fly sent, for read tools."""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks.harness import Figure, RecordingTransport, Target, count_o200k, table, tool_call
from fly_tools import FlyClient, FlyToolkit
from fly_tools.testing import BASE_URL, FakeFly
from fly_tools.testing.world import MACHINES, VOL_DATA

WEB_1 = {"app_name": "web", "machine_id": MACHINES["web-1"]}
READS: list[tuple[str, dict[str, Any]]] = [
    ("fly_list_apps", {"org_slug": "acme"}),
    ("fly_get_app", {"app_name": "web"}),
    ("fly_list_machines", {"app_name": "web"}),
    ("fly_get_machine", WEB_1),
    ("fly_wait_machine", {**WEB_1, "state": "started"}),
    ("fly_list_machine_processes", WEB_1),
    ("fly_list_machine_events", WEB_1),
    ("fly_list_machine_versions", WEB_1),
    ("fly_get_lease", WEB_1),
    ("fly_list_volumes", {"app_name": "web"}),
    ("fly_get_volume", {"app_name": "web", "volume_id": VOL_DATA}),
    ("fly_list_secrets", {"app_name": "web"}),
]
"""Every READ-tier tool, on the demo world (web-1 holds a lease for fly_get_lease)."""
TARGET_PERCENT = 20.0


def measure() -> list[tuple[str, str, str]]:
    """(tool, raw JSON, content) for every read on the demo world."""
    fake = FakeFly.demo()
    recorder = RecordingTransport(fake.transport())
    client = FlyClient(fake.tokens["org"], base_url=BASE_URL, transport=recorder, rate_limit=False)
    tools = {t.name: t for t in FlyToolkit(client=client, scope="org").get_tools()}
    client.call("fly_acquire_lease", {**WEB_1, "description": "deploy in progress"})
    pairs = []
    for name, args in READS:
        message = tools[name].invoke(tool_call(name, args))
        if message.status != "success":
            raise RuntimeError(f"{name} failed on the demo world: {message.content}")
        pairs.append((name, recorder.last_body.decode(), str(message.content)))
    return pairs


def run(quick: bool = False) -> Figure:
    """Measure figure 4 (the demo world is small: quick and full runs are the same)."""
    started = time.perf_counter()
    pairs = measure()
    texts = [text for _, raw, content in pairs for text in (raw, content)]
    counts, method = count_o200k(texts, install=not quick)
    sizes = [
        (name, raw, content, counts[2 * n], counts[2 * n + 1])
        for n, (name, raw, content) in enumerate(pairs)
    ]
    get_machine = next(100 * c / r for name, _, _, r, c in sizes if name == "fly_get_machine")
    body = (
        f"Tokenizer: {method}. Raw JSON is the response body exactly as the fake sent it "
        "(compact JSON); content is the text the model reads in the ToolMessage (the full "
        "JSON stays in the artifact).\n\n" + _table(sizes)
    )
    target = Target("fly_get_machine content / raw JSON (tokens)", get_machine, TARGET_PERCENT, "%")
    return Figure(4, "Content size vs raw JSON", body, [target], time.perf_counter() - started)


def _table(sizes: list[tuple[str, str, str, int, int]]) -> str:
    rows: list[list[object]] = [
        [
            f"`{name}`",
            f"{len(raw):,}",
            f"{raw_tokens:,}",
            f"{len(content):,}",
            f"{content_tokens:,}",
            f"{100 * len(content) / len(raw):.0f}%",
            f"{100 * content_tokens / raw_tokens:.0f}%",
        ]
        for name, raw, content, raw_tokens, content_tokens in sizes
    ]
    raw_total, content_total = sum(s[3] for s in sizes), sum(s[4] for s in sizes)
    rows.append(
        [
            "**all reads**",
            "",
            f"{raw_total:,}",
            "",
            f"{content_total:,}",
            "",
            f"{100 * content_total / raw_total:.0f}%",
        ]
    )
    headers = [
        "tool",
        "raw JSON chars",
        "raw tokens",
        "content chars",
        "content tokens",
        "content/raw (chars)",
        "content/raw (tokens)",
    ]
    return table(headers, rows)


def main() -> int:
    print(run(quick="--quick" in sys.argv).body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
