"""From command-line options to what a command needs: arguments, a client, a scope, a toolkit."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import TypeAdapter, ValidationError

from fly_tools.catalogue import ENDPOINTS, Endpoint
from fly_tools.cli.usage import GIVE_SCOPE, UsageError, names, split
from fly_tools.client import AsyncFlyClient, ConfigurationError, FlyClient, FlyError
from fly_tools.client.errors import CREDENTIALS_HINT
from fly_tools.client.settings import TOKEN_ENV_VARS
from fly_tools.guards import AgentPolicy
from fly_tools.models.identifiers import AppName
from fly_tools.risk import GROUPS, SCOPES, RiskTier, Scope, parse_scope
from fly_tools.toolkit import FlyToolkit, select_endpoints

CLI_AGENT = "fly-tools"
"""The agent id in audit records of ``fly-tools call`` when no policy or flag names one."""
DEFAULT_SCOPE: Scope = "readonly"
"""The scope without ``--scope`` or ``--live``: the least the fake's demo world offers."""
LIVE_NEEDS_TOKEN = f"--live needs a Fly API token: {CREDENTIALS_HINT}"
NEEDS_MACAROONS = "--attenuate needs the macaroons extra: pip install 'fly-tools[macaroons]'"


def scoped(scope: str) -> str:
    """``an org-scoped token`` / ``a deploy-scoped token``."""
    article = "an" if scope[:1] in "aeiou" else "a"
    return f"{article} {scope}-scoped token"


def plural(count: int, noun: str) -> str:
    """``1 tool`` / ``2 tools``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ---------------------------------------------------------------- plain values


def app_name(app: str | None) -> str | None:
    """``--app``, checked as a Fly app name."""
    if app is None:
        return None
    try:
        return TypeAdapter(AppName).validate_python(app)
    except ValidationError:
        raise UsageError(
            f"--app {app!r} is not a Fly app name (lower-case letters, digits and dashes)"
        ) from None


def policy(path: str | None) -> AgentPolicy | None:
    """``--policy FILE``, loaded."""
    if path is None:
        return None
    try:
        return AgentPolicy.from_file(path)
    except FileNotFoundError:
        raise UsageError(f"no such policy file: {path}") from None
    except (OSError, ValueError, ImportError) as exc:
        raise UsageError(f"policy {path}: {str(exc).splitlines()[0]}") from None


def endpoint(name: str) -> Endpoint:
    """The catalogue record of tool ``name``, with a suggestion for a typo."""
    found = ENDPOINTS.get(name)
    if found is None:
        close = difflib.get_close_matches(name, list(ENDPOINTS), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"unknown tool {name!r}; {hint}`fly-tools tools` lists them")
    return found


def json_object(text: str, stdin: TextIO | None = None) -> dict[str, Any]:
    """``--args``: inline JSON, ``@FILE``, or ``-`` (also ``@-``) for standard input."""
    where = "--args"
    if text in ("-", "@-"):
        text, where = (stdin or sys.stdin).read(), "--args from standard input"
    elif text.startswith("@"):
        path = Path(text[1:])
        try:
            text, where = path.read_text(encoding="utf-8"), f"--args file {path}"
        except FileNotFoundError:
            raise UsageError(f"no such --args file: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --args file {path}: {exc}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(
            f'{where} must be a JSON object, e.g. \'{{"machine_id": "3d8d9015b23489"}}\''
        )
    return value


# ---------------------------------------------------------------- client and scope


def client_and_scope(args: argparse.Namespace) -> tuple[FlyClient, Scope, str]:
    """The client, the scope, and where the scope came from (``flag``, ``token``, ``default``)."""
    extra = {"limiter": args.limiter} if args.limiter else {}
    if args.live:
        client = live_client(**extra)
        if args.scope:
            return client, parse_scope(args.scope), "flag"
        return client, scope_of_token(client), "token"
    scope = parse_scope(args.scope) if args.scope else DEFAULT_SCOPE
    origin = "flag" if args.scope else "default"
    return _with_limiter(_fake_client, scope, app_name(args.app), **extra), scope, origin


def _fake_client(scope: Scope, app: str | None, **options: Any) -> FlyClient:
    from fly_tools.testing import FakeFly

    if "limiter" in options:
        # The fake's clients do not pace by default (it can enforce Fly's limits
        # itself); a --limiter turns pacing back on, through that limiter.
        options = {"rate_limit": True, **options}
    return FakeFly.demo().client(scope=scope, app=app, **options)


def live_client(**options: Any) -> FlyClient:
    """A client for the real Fly API from the environment; a usage error when it cannot be made."""
    if not any(os.environ.get(name, "").strip() for name in TOKEN_ENV_VARS):
        raise UsageError(LIVE_NEEDS_TOKEN)
    try:
        return _with_limiter(FlyClient.from_env, **options)
    except ConfigurationError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


def _with_limiter(make: Any, *args: Any, **options: Any) -> FlyClient:
    try:
        client: FlyClient = make(*args, **options)
    except TypeError as exc:
        if "limiter" in options and "limiter" in str(exc):
            raise UsageError("--limiter is not supported by this version of the client") from None
        raise
    except (ValueError, ImportError, ConfigurationError) as exc:
        if "limiter" not in options and not isinstance(exc, ConfigurationError):
            raise
        raise UsageError(str(exc).splitlines()[0]) from None
    return client


def scope_of_token(client: FlyClient) -> Scope:
    """The scope of the client's token as Fly reports it; a usage error when it cannot tell.

    Both ``/tokens/current`` and ``/tokens/authorize`` are asked: without the second a
    readonly or exec token would read as an org token, and the toolkit would be wider
    than the token.
    """
    try:
        from fly_tools.client.tokens import org_of, scope_from_current_token
    except ImportError:
        raise UsageError(GIVE_SCOPE) from None
    try:
        current = client.current_token()
        org = org_of(current)
        if org is None:
            raise ValueError("Fly's answer about the token names no org")
        # No action: verify the token against its org and show its caveats.
        authorized = client.authorize({"org_slug": org})
        scope, _ = scope_from_current_token(current, authorized)
    except FlyError as exc:
        # The cause first (token refused, host not found, no answer...): --scope alone
        # would not get past it.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{reason} (so the token's scope could not be read)") from None
    except (AttributeError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{GIVE_SCOPE} ({reason})") from None
    return parse_scope(scope)


# ---------------------------------------------------------------- the toolkit


def filters(args: argparse.Namespace) -> dict[str, Any]:
    """``groups``, ``max_risk``, ``include``, ``exclude`` and ``policy`` from their flags."""
    return {
        "groups": names(args.groups, GROUPS, "--groups"),
        "max_risk": RiskTier.parse(args.max_risk) if args.max_risk else None,
        "include": names(args.include, ENDPOINTS, "--include"),
        "exclude": names(args.exclude, ENDPOINTS, "--exclude"),
        "policy": policy(args.policy),
    }


def endpoints(scope: Scope, app: str | None, chosen: dict[str, Any]) -> tuple[Endpoint, ...]:
    """The tools a toolkit with these filters offers; a usage error when none are left."""
    try:
        return select_endpoints(scope, app_bound=app is not None, **chosen)
    except ValueError:
        raise UsageError(
            f"these options leave no tools for {scoped(scope)}: widen --groups, --max-risk "
            "or --include, drop --exclude, or loosen --policy (`fly-tools tools` shows what is left)"
        ) from None


def toolkit(
    args: argparse.Namespace, client: FlyClient | AsyncFlyClient, scope: Scope, **options: Any
) -> FlyToolkit:
    """The toolkit the flags describe, around ``client``."""
    app = app_name(args.app)
    chosen = filters(args)
    endpoints(scope, app, chosen)  # the CLI's own wording when nothing is left
    agent = args.agent_id or (chosen["policy"].agent_id if chosen["policy"] else CLI_AGENT)
    try:
        return FlyToolkit(
            client=client,
            scope=scope,
            app=app,
            agent_id=agent,
            confirm_at=RiskTier.parse(args.confirm_at or RiskTier.DESTRUCTIVE),
            exec_commands=split(args.exec_commands),
            check_scope=getattr(args, "check_scope", True),
            attenuate=attenuation(args, client),
            **chosen,
            **options,
        )
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


def attenuation(args: argparse.Namespace, client: FlyClient | AsyncFlyClient) -> Any:
    """``--attenuate``: ``False``, or how to narrow: windows on the wall clock on live Fly,
    on the fake's own clock without ``--live``.

    The fake's virtual clock is not the wall clock, and the fake checks a token's validity
    window against its own clock: windows from the wall clock would be refused.
    """
    if not getattr(args, "attenuate", False):
        return False
    try:
        from fly_tools.macaroons.toolkit import Attenuation
    except ImportError:
        raise UsageError(NEEDS_MACAROONS) from None
    if getattr(args, "live", False):
        return Attenuation()
    return Attenuation(clock=client.clock)


def not_in_toolkit(tool: Endpoint, kit: FlyToolkit) -> str:
    """Why ``tool`` is not among ``kit``'s tools, naming the flag that left it out."""
    scopes = ", ".join(s for s in SCOPES if s in tool.scopes)
    checks = [
        (
            kit.scope not in tool.scopes,
            f"is not available to {scoped(kit.scope)} (it needs: {scopes})",
        ),
        (
            kit.app is not None and "deploy" not in tool.scopes,
            f"reaches beyond one app, and --app binds this toolkit to app {kit.app}",
        ),
        (
            kit.groups is not None and tool.group not in kit.groups,
            f"is in group {tool.group}, which --groups leaves out",
        ),
        (
            kit.max_risk is not None and tool.risk > kit.max_risk,
            f"is {tool.risk.label}, above --max-risk {kit.max_risk.label if kit.max_risk else ''}",
        ),
        (kit.include is not None and tool.name not in kit.include, "is not in --include"),
        (kit.exclude is not None and tool.name in kit.exclude, "is left out by --exclude"),
    ]
    for failed, reason in checks:
        if failed:
            return f"{tool.name} {reason}"
    if kit.policy is not None and (refusal := kit.policy.refusal(tool)):
        return refusal
    return f"{tool.name} is not in this toolkit"
