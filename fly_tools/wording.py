"""``docs/approval-wording.md``: how each operation reads to a person, generated from the catalogue's phrases.

``python -m fly_tools.wording --write`` refreshes the file; a test fails when it is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from fly_tools.catalogue import ENDPOINTS, Endpoint, TargetKind
from fly_tools.guards.audit import AuditRecord
from fly_tools.guards.decisions import Target
from fly_tools.guards.describe import action_phrase

DOC = Path(__file__).parents[1] / "docs" / "approval-wording.md"
"""Where the generated page lives in the repository."""
EXAMPLES: dict[TargetKind, Target] = {
    "org": Target("org", None, "personal"),
    "app": Target("app", "web"),
    "machine": Target("machine", "web", "3d8d9015b23489"),
    "volume": Target("volume", "web", "vol_abc123"),
    "secret": Target("secret", "web", "DATABASE_URL"),
    "secretkey": Target("secretkey", "web", "signing"),
    "certificate": Target("certificate", "web", "www.example.com"),
    "ip": Target("ip", "web", "137.66.1.2"),
    "platform": Target("platform"),
}
"""The example target each row is worded with, by kind."""
_HEAD = """# What a person is asked, and what the audit trail says

Generated from the catalogue by `python -m fly_tools.wording --write`; do not edit by hand.
Each operation's words are on its record (`phrase=Phrase(ask=..., done=...)`), written once
by a person, never parsed out of the tool name. The question is what a reviewer reads
first when the call is gated (at the console, in `approvals show`, the agent's review and
the MCP form), before the facts read from Fly and the change the agent asks for; the
audit trail's line is what `fly-tools audit` prints after an approved call by `ops-bot`.
"""


def asked(endpoint: Endpoint, target: Target) -> str:
    """The first sentence a reviewer reads, with its consequence for gated tiers."""
    phrase = action_phrase(endpoint, target)
    text = f"{phrase[0].upper()}{phrase[1:]}."
    return f"{text} {endpoint.consequence}" if endpoint.consequence else text


def told(endpoint: Endpoint, target: Target) -> str:
    """The audit trail's sentence for the call, approved at the prompt when gated."""
    gated = bool(endpoint.consequence)
    record = AuditRecord(
        time="2026-01-01T00:00:00.000Z",
        agent_id="ops-bot",
        tool=endpoint.name,
        target=target,
        args={},
        decision="approved" if gated else "allowed",
        decided_by="console" if gated else "toolkit policy",
        outcome="ok",
        status=None,
        error=None,
        duration_ms=0.0,
        sentence="-",
    )
    return record.worded(endpoint).sentence


def wording_markdown(endpoints: Iterable[Endpoint] = ENDPOINTS.records) -> str:
    """The whole page: one row per operation."""
    rows = [
        "| tool | tier | what a person is asked | what the audit trail says |",
        "|---|---|---|---|",
    ]
    for e in endpoints:
        target = EXAMPLES[e.target]
        rows.append(f"| `{e.name}` | {e.risk.label} | {asked(e, target)} | {told(e, target)} |")
    return f"{_HEAD}\n" + "\n".join(rows) + "\n"


def write(path: Path = DOC) -> bool:
    """Write the page to ``path``; True when it changed."""
    text = wording_markdown()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m fly_tools.wording``: print the page; ``--write [PATH]`` updates the file."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--write"]:
        path = Path(args[1]) if len(args) > 1 else DOC
        print(f"{path}: {'updated' if write(path) else 'already current'}")
    else:
        print(wording_markdown(), end="")


if __name__ == "__main__":
    main()
