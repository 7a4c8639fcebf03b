"""``fly-tools audit``, ``demo``, ``fake-server`` and ``mcp``: the commands around the toolkit."""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fly_tools.cli.parser import DECISIONS
from fly_tools.cli.stores import absolute_store
from fly_tools.cli.usage import EXIT_FAILED, EXIT_OK, UsageError, names

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_TEXT_FIELDS = ("time", "tool", "decision", "decided_by", "outcome", "sentence")


# ---------------------------------------------------------------- audit


def run_audit(args: argparse.Namespace) -> int:
    """``fly-tools audit``: an audit file as a numbered plain-English trail, or as JSON.

    Records are read as plain JSON, each with the sentence written when it was made, so
    the command starts without pydantic, the catalogue or LangChain. A file of another
    shape (no sentences) goes through :func:`fly_tools.guards.read_jsonl`.
    """
    since = parse_since(args.since, datetime.now(UTC)) if args.since else None
    records = read_trail(args.file)
    if args.tool is not None and all(r["tool"] != args.tool for r in records):
        from fly_tools.catalogue import ENDPOINTS  # only to name a typo

        names([args.tool], ENDPOINTS, "--tool")
    chosen = [
        r
        for r in records
        if (args.agent is None or r["agent_id"] == args.agent)
        and (args.decision is None or r["decision"] == args.decision)
        and (args.tool is None or r["tool"] == args.tool)
        and (since is None or _at_or_after(r["time"], since))
    ]
    if args.json:
        print(json.dumps({"count": len(chosen), "records": chosen}, indent=2, default=str))
    elif not chosen:
        print("No audit records match." if records else "No audit records.")
    else:
        print(trail_text(chosen))
    return EXIT_OK


def read_trail(path: str) -> list[dict[str, Any]]:
    """The records of a JSONL audit file as dicts; a usage error when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as file:
            lines = [line for line in file if line.strip()]
        records = [json.loads(line) for line in lines]
    except FileNotFoundError:
        raise UsageError(f"no such audit file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(str(exc)) from None
    except json.JSONDecodeError:
        records = []  # the full reader names the line
    if len(records) == len(lines) and all(_plain_record(r) for r in records):
        return records
    from fly_tools.guards import read_jsonl

    try:
        return [r.to_dict() for r in read_jsonl(path)]
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def _plain_record(record: Any) -> bool:
    """A record as :class:`~fly_tools.guards.AuditRecord` writes it, sentence included."""
    if not isinstance(record, dict):
        return False
    texts = all(isinstance(record.get(key), str) for key in _TEXT_FIELDS)
    agent, duration = record.get("agent_id"), record.get("duration_ms")
    return (
        texts
        and record["decision"] in DECISIONS
        and (agent is None or isinstance(agent, str))
        and isinstance(duration, int | float)
        and not isinstance(duration, bool)
    )


def trail_text(records: Sequence[dict[str, Any]]) -> str:
    """A numbered trail, one record a line (the lines of :func:`fly_tools.guards.format_trail`)."""
    from fly_tools.render import TRAIL_LINE, TRAIL_WHERE, inert

    # A file can be written by anyone: every sentence is shown inert, and cut visibly.
    return "\n".join(
        f"{n}. {inert(r['time'], limit=40, where=TRAIL_WHERE)} "
        f"{inert(r['sentence'], limit=TRAIL_LINE, where=TRAIL_WHERE)} "
        f"({r['duration_ms']:.0f} ms)"
        for n, r in enumerate(records, 1)
    )


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: an ISO-8601 time or date (UTC unless it says), or a duration back from ``now``."""
    if match := _DURATION.fullmatch(text.strip()):
        return now - timedelta(seconds=float(match[1]) * _UNITS[match[2]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text!r} is neither a time (2026-05-01T12:00Z, 2026-05-01) "
            "nor a duration (90s, 15m, 2h, 7d)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _at_or_after(time: str, since: datetime) -> bool:
    try:
        when = datetime.fromisoformat(time)
    except ValueError:
        return False
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) >= since


# ---------------------------------------------------------------- demo


def run_demo(args: argparse.Namespace) -> int:
    """``fly-tools demo``: the agent demo on the fake Fly API, or read-only live."""
    try:
        from fly_tools import demo
    except ImportError as exc:
        raise UsageError(
            f"the demo needs the agent runtime ({exc.name} is missing): "
            "pip install 'fly-tools[demo]'"
        ) from None
    reviewer = demo.Reviewer.from_flags(yes=args.yes, no=args.no)
    try:
        model = demo.model_from_env()
        if args.live:
            report = demo.run_live(reviewer=reviewer, app=args.app, model=model)
        else:
            report = demo.run_demo(
                reviewer=reviewer,
                app=args.app or "web",
                model=model,
                store=absolute_store(args.store),
            )
    except demo.DemoError as exc:
        raise UsageError(str(exc)) from None
    failed = demo.failed_calls(report) if args.live else ""
    if failed:  # a live report whose calls failed is no report: the exit status says so
        print(f"fly-tools: {failed}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


# ---------------------------------------------------------------- fake server


def run_fake_server(argv: Sequence[str]) -> int:
    """``fly-tools fake-server ...``: the fake's own server command line, until Ctrl-C."""
    from fly_tools.testing.command import serve_main

    return serve_main(list(argv), prog="fly-tools fake-server")


# ---------------------------------------------------------------- mcp


def run_mcp(argv: Sequence[str]) -> int:
    """``fly-tools mcp ...``: hand every argument to the MCP server's own command line.

    Without ``--scope`` the scope is added as for ``call``: read from the token with
    ``--live``, else ``readonly``.
    """
    try:
        module = importlib.import_module("fly_tools.mcp.cli")
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == "mcp" or missing.startswith("mcp."):
            raise UsageError(
                f"`fly-tools mcp` needs the MCP SDK ({missing} is missing): "
                "pip install 'fly-tools[mcp]'"
            ) from None
        if missing.startswith("fly_tools.mcp"):
            raise UsageError("this installation of fly-tools has no MCP server") from None
        raise
    mcp_main = getattr(module, "main", None)
    if not callable(mcp_main):
        raise UsageError("this installation of fly-tools has no MCP command line")
    return int(mcp_main(with_scope(list(argv))))


def with_scope(argv: list[str]) -> list[str]:
    """``argv`` with ``--scope`` added when it is missing (never for ``--help``)."""
    if _given(argv, "-h", "--help") or _given(argv, "--scope") or argv[:1] == ["config"]:
        return argv
    if not _given(argv, "--live"):
        from fly_tools.cli.options import DEFAULT_SCOPE

        return ["--scope", DEFAULT_SCOPE, *argv]
    from fly_tools.cli.options import live_client, scope_of_token

    return ["--scope", scope_of_token(live_client()), *argv]


def _given(argv: Iterable[str], *flags: str) -> bool:
    return any(arg in flags or arg.split("=", 1)[0] in flags for arg in argv)
