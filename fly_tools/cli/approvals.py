"""``fly-tools approvals``: list, show, approve and reject gated calls waiting in a store; keygen."""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fly_tools.cli.stores import existing_store, iso_times
from fly_tools.cli.usage import EXIT_FAILED, EXIT_OK
from fly_tools.render import identifier, inert, inert_lines, quoted

if TYPE_CHECKING:
    from fly_tools.approvals import ApprovalStore, Status

PROG = "fly-tools approvals"
STORE_HELP = (
    "the approvals store: a file path, sqlite:///path or redis://host:port/db "
    "(default: $FLY_TOOLS_APPROVALS, else ~/.fly-tools/approvals.db)"
)


def build_parser() -> argparse.ArgumentParser:
    """The ``approvals`` command line: one subcommand per action."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Answer gated calls that agents left waiting in an approvals store. "
        "An approval lets the agent's next identical call through, once.",
        epilog="Answers are signed with the approver's key (keygen makes one); toolkits trust "
        "the public keys in $FLY_TOOLS_APPROVER_KEYS. Run this as the approver, never as "
        "the agent's OS user. Exit status: 0 done; 1 no such approval, it is no longer "
        "pending, no usable key, or the store cannot be read; 2 usage.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    keygen = actions.add_parser(
        "keygen", help="make an approver key (mode 0600) and print its public key"
    )
    keygen.add_argument(
        "--out", metavar="PATH", help="where to write it (default: ~/.fly-tools/approver.key)"
    )
    listing = actions.add_parser("list", help="the approvals in the store, newest first")
    listing.add_argument("--pending", action="store_true", help="only those waiting for a person")
    show = actions.add_parser("show", help="one approval: what the call will do, and its answer")
    show.add_argument("id")
    for name, verb in (("approve", "approve"), ("reject", "reject")):
        answer = actions.add_parser(name, help=f"{verb} a pending call (recorded with who)")
        answer.add_argument("id")
        answer.add_argument(
            "--by", help="who answers, for the record (default: USER@HOST of this terminal)"
        )
        answer.add_argument("--reason", help="why, kept with the answer and shown to the agent")
        answer.add_argument(
            "--key",
            metavar="PATH",
            help="the approver's private key (default: $FLY_TOOLS_APPROVER_KEY, "
            "else ~/.fly-tools/approver.key)",
        )
    for name, sub in actions.choices.items():
        if name == "keygen":
            continue
        sub.add_argument("--store", metavar="URL", help=STORE_HELP)
        sub.add_argument("--json", action="store_true", help="print JSON on stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fly-tools approvals`` with ``argv``; returns the exit status."""
    from fly_tools.approvals import ApprovalError, open_store
    from fly_tools.approvals.hook import answer_signed
    from fly_tools.approvals.signing import SigningError

    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if args.action == "keygen":
            return _keygen(args.out)
        store = open_store(existing_store(args.store))
        if args.action == "list":
            return _list(store, pending=args.pending, as_json=args.json)
        if args.action == "show":
            return _show(store, args.id, as_json=args.json)
        status: Status = "approved" if args.action == "approve" else "rejected"
        by = args.by or _who()
        key = _private_key(args.key)
        answered = answer_signed(store, key, args.id, status, by, args.reason)
    except (ApprovalError, SigningError) as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(iso_times(answered.to_dict()), indent=2))
    else:
        print(f"{inert(answered.id)} {status} by {inert(by)}: {_lines(answered.description)}")
        if status == "approved":
            print("The agent's next identical call runs it, once.")
    return EXIT_OK


def run_approvals(argv: Sequence[str]) -> int:
    """``fly-tools approvals ...``: the handler ``fly-tools`` passes the arguments to."""
    return main(argv)


def _keygen(out: str | None) -> int:
    from fly_tools.approvals.signing import DEFAULT_KEY_FILE, KEYS_ENV, generate_key_file

    path = out or str(DEFAULT_KEY_FILE)
    public = generate_key_file(path)
    print(public)
    print(
        f"Private key written to {path} (mode 0600): keep it where the agent cannot read it. "
        f"Give the agent's toolkit the public key above ({KEYS_ENV}={public}).",
        file=sys.stderr,
    )
    return EXIT_OK


def _private_key(path: str | None) -> Any:
    import os

    from fly_tools.approvals.signing import DEFAULT_KEY_FILE, KEY_FILE_ENV, load_private_key

    return load_private_key(path or os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE)


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _list(store: ApprovalStore, *, pending: bool, as_json: bool) -> int:
    now = store.clock()
    chosen = [a for a in store.entries() if not pending or a.status_at(now) == "pending"]
    if as_json:
        document = [{**a.to_dict(), "status": a.status_at(now)} for a in chosen]
        print(json.dumps(iso_times({"count": len(chosen), "approvals": document}), indent=2))
        return EXIT_OK
    if not chosen:
        print("No approvals." if not pending else "No approvals are pending.")
        return EXIT_OK
    for a in chosen:
        target = _target(a.target)
        print(
            f"{inert(a.id)}  {a.status_at(now):<9} {_when(a.created_at)}  {inert(a.tool)} on {target}"
        )
    return EXIT_OK


def _show(store: ApprovalStore, approval_id: str, *, as_json: bool) -> int:
    from fly_tools.approvals import ApprovalError

    found = store.get(approval_id)
    if found is None:
        raise ApprovalError(f"no approval {approval_id} in this store")
    status = found.status_at(store.clock())
    if as_json:
        print(json.dumps(iso_times({**found.to_dict(), "status": status}), indent=2))
        return EXIT_OK
    lines = [
        f"Approval {inert(found.id)}: {status}",
        f"  {_lines(found.description)}",
        f"  tool: {inert(found.tool)} on {_target(found.target)}",
        f"  arguments: {quoted(dict(sorted(found.args.items())))}",
        f"  asked: {_when(found.created_at)}"
        + (f" by {identifier(found.agent_id)}" if found.agent_id else ""),
        f"  expires: {_when(found.expires_at)}",
    ]
    if found.answered_by:
        said = f" ({inert(found.reason)})" if found.reason else ""
        who = inert(found.answered_by)
        lines.append(f"  answered: {_when(found.answered_at or 0)} by {who}{said}")
    if found.consumed_at:
        lines.append(f"  used: {_when(found.consumed_at)}")
    print("\n".join(lines))
    return EXIT_OK


def _target(target: Any) -> str:
    from fly_tools.guards.decisions import Target
    from fly_tools.guards.describe import target_phrase

    try:
        return target_phrase(Target.from_dict(target))
    except ValueError:
        return "an unknown target"


def _lines(text: str) -> str:
    return inert_lines(text, indent="  ")


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


__all__ = ["build_parser", "main", "run_approvals"]
