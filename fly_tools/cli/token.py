"""``fly-tools token``: narrow the Fly token offline, and ask Fly what a token allows.

``attenuate`` prints the token from ``FLY_API_TOKEN`` narrowed like a toolkit's reach
token (an app, a highest risk tier, a lifetime), as ``fly tokens attenuate`` would.
``check`` asks ``POST /tokens/authorize`` for each kind of access the catalogue's
operations ask (resource and action) and prints which are allowed: the way to see, on
live Fly, that a narrowed token refuses what the policy refuses.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.cli import options
from fly_tools.cli.usage import EXIT_OK, UsageError
from fly_tools.risk import GROUPS, RiskTier

_DURATION = re.compile(r"^(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def build_parser() -> argparse.ArgumentParser:
    """The ``token`` command line."""
    parser = argparse.ArgumentParser(prog="fly-tools token", description=__doc__.splitlines()[0])
    jobs = parser.add_subparsers(dest="job", metavar="JOB", required=True)
    narrow = jobs.add_parser("attenuate", help="print the token narrowed (FlyV1 header value)")
    narrow.add_argument("--app", help="only this app (its numeric id is asked of Fly once)")
    narrow.add_argument(
        "--max-risk",
        default="destructive",
        choices=[t.label for t in RiskTier],
        help="keep only the actions every operation up to this tier needs (default: all)",
    )
    narrow.add_argument("--ttl", default="1h", help="lifetime, e.g. 30m, 1h, 7d (default 1h)")
    check = jobs.add_parser("check", help="a table of the operations the token allows")
    check.add_argument("--app", help="check app-level access on this app")
    check.add_argument("--json", action="store_true", help="print the table as JSON")
    return parser


def run_token(argv: Sequence[str]) -> int:
    """Run ``fly-tools token ...``."""
    args = build_parser().parse_args(list(argv))
    client = options.live_client()
    if args.job == "attenuate":
        print(attenuated(client, args.app, RiskTier.parse(args.max_risk), parse_ttl(args.ttl)))
    else:
        rows = check_table(client, args.app)
        print(json.dumps(rows, indent=2) if args.json else format_rows(rows))
    return EXIT_OK


def parse_ttl(text: str) -> int:
    """``"1h"`` -> 3600; a usage error for anything else."""
    found = _DURATION.match(text.strip())
    if not found or int(found.group(1)) == 0:
        raise UsageError(f"--ttl {text!r}: give a lifetime such as 30m, 1h or 7d")
    return int(found.group(1)) * _SECONDS[found.group(2)]


def attenuated(client: Any, app: str | None, max_risk: RiskTier, ttl: int) -> str:
    """The client's token narrowed to ``app``, ``max_risk`` and ``ttl`` seconds."""
    from fly_tools.macaroons import NotAMacaroonError, attenuate
    from fly_tools.macaroons.narrow import reach_caveats
    from fly_tools.toolkit import select_endpoints

    allowed = {
        e.name
        for e in select_endpoints("org", groups=GROUPS, max_risk=max_risk, app_bound=bool(app))
    }
    reach = [e for e in ENDPOINTS.records if not (app and _resource(e) == "org")]
    mask = 0
    for endpoint in reach:
        mask |= endpoint.access.bits if endpoint.access and endpoint.name in allowed else 0
    _warn_unrefused(reach, allowed, mask)
    app_id = _app_id(client, app) if app else None
    caveats = reach_caveats(
        mask, app_id, time.time(), ttl, exec_allowed="fly_exec_machine" in allowed
    )
    try:
        return attenuate(_header(client), caveats)
    except (NotAMacaroonError, ValueError) as exc:
        raise UsageError(f"the token cannot be narrowed: {exc}") from None


def _warn_unrefused(reach: Sequence[Endpoint], allowed: set[str], mask: int) -> None:
    # Fly sees an access (resource, action), not an operation: an operation above the
    # tier that asks the same access as one below it cannot be refused by the token.
    same = [
        e.name
        for e in reach
        if e.name not in allowed and e.access and e.access.bits and not e.access.bits & ~mask
    ]
    if same:
        print(
            "note: Fly cannot tell these from allowed operations (same access), so this "
            f"token does not refuse them: {', '.join(same)}",
            file=sys.stderr,
        )


def check_table(client: Any, app: str | None) -> list[dict[str, Any]]:
    """One row per operation: its access, and whether Fly allows it for this token."""
    org = _org(client)
    verdicts: dict[tuple[str, str], str] = {}
    rows = []
    for endpoint in ENDPOINTS.records:
        need = endpoint.access
        if need is None:
            continue
        key = (need.resource, need.action)
        if key not in verdicts:
            verdicts[key] = _verdict(client, org, app, need.resource, need.action)
        rows.append(
            {
                "operation": endpoint.name,
                "tier": endpoint.risk.label,
                "access": f"{need.resource}:{need.action or '-'}",
                "fly": verdicts[key],
            }
        )
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The check table as aligned text."""
    lines = [f"{'OPERATION':34} {'TIER':11} {'ACCESS':11} FLY SAYS"]
    lines += [f"{r['operation']:34} {r['tier']:11} {r['access']:11} {r['fly']}" for r in rows]
    return "\n".join(lines)


def _verdict(client: Any, org: str, app: str | None, resource: str, action: str) -> str:
    from fly_tools.client.errors import FlyAPIError

    if resource in ("machine", "volume"):
        return "depends on the target (give a machine or volume to Fly to know)"
    access: dict[str, Any] = {"org_slug": org}
    if action:
        access["action"] = action
    if resource == "app":
        if app is None:
            return "unchecked (give --app)"
        access["app_name"] = app
    try:
        client.authorize(access)
    except FlyAPIError as exc:
        return "denied: " + str(exc).split(": ", 1)[-1].split(". ")[0]
    return "allowed"


def _resource(endpoint: Endpoint) -> str:
    return endpoint.access.resource if endpoint.access else "org"


def _header(client: Any) -> str:
    from fly_tools.client.settings import authorization_header

    return authorization_header(client.token)


def _org(client: Any) -> str:
    from fly_tools.client.tokens import org_of

    org = org_of(client.current_token())
    if org is None:
        raise UsageError("Fly's answer about the token names no org")
    return org


def _app_id(client: Any, app: str) -> int:
    from fly_tools.client.errors import FlyAPIError

    try:
        answer = client.authorize({"org_slug": _org(client), "app_name": app})
    except FlyAPIError as exc:
        raise UsageError(
            f"Fly would not say app {app!r}'s id: {str(exc).splitlines()[0]}"
        ) from None
    app_id = (answer.get("access") or {}).get("appid")
    if not isinstance(app_id, int):
        raise UsageError(f"Fly did not give app {app!r}'s numeric id for this token")
    return app_id


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_token(sys.argv[1:]))
