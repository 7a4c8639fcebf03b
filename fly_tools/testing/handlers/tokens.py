"""Handlers for what a token may do: ``/tokens/current``, ``/tokens/authorize``, ``/tokens/authenticate``.

Each issued token is a macaroon with caveats, as on Fly (see
:func:`fly_tools.testing.scope_caveats`): an ``Organization`` caveat with an
action mask (``rwcdC`` for org and deploy tokens, ``r`` for readonly, ``C`` for exec),
an ``Apps`` caveat for app-bound tokens, and a ``Commands`` caveat for exec tokens,
plus whatever caveats its holder added since. ``/tokens/current`` shows the org and
apps; ``/tokens/authorize`` checks the access asked against the token's own caveats and
shows them; ``/tokens/authenticate`` verifies a token without checking any access.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from pydantic import Field

from fly_tools.testing.auth import MASKS, Token, TokenBook, scope_caveats
from fly_tools.testing.calls import BodyParams, Call, Params, Reply, route
from fly_tools.testing.errors import FakeApiError, FakeBadRequestError, FakeForbiddenError
from fly_tools.testing.state import FakeState

try:  # the macaroons extra; without it tokens are plain and show no caveats
    from fly_tools import macaroons as mac
except ImportError:  # pragma: no cover - the test extra installs msgpack
    mac = None  # type: ignore[assignment]

READ, WRITE, CREATE, DELETE, CONTROL = 1, 2, 4, 8, 16
ALL = READ | WRITE | CREATE | DELETE | CONTROL
LETTERS = "rwcdC"
"""The action bits 1, 2, 4, 8, 16 as Fly's JSON spells them."""


class AuthenticateParams(BodyParams):
    header: str = ""


class AuthorizeParams(AuthenticateParams):
    access: dict[str, Any] = Field(default_factory=dict)


@route("fly_get_current_token", Params)
def current_token(fly: FakeState, call: Call, p: Params) -> Reply:
    token = call.token
    info: dict[str, Any] = {
        "token_id": token.token_id,
        "org_slug": token.org,
        "organization": fly.add_org(token.org, token.org).name,
        "apps": [token.app] if token.app else [],
    }
    return Reply({"tokens": [info]})


@route("fly_authorize_token", AuthorizeParams)
def authorize_token(fly: FakeState, call: Call, p: AuthorizeParams) -> Reply:
    token = _checked(call.tokens, p.header)
    access = _granted(fly, token, p.access)
    return Reply({"access": access, "verified_token": _verified(fly, token)})


@route("fly_authenticate_token", AuthenticateParams)
def authenticate_token(fly: FakeState, call: Call, p: AuthenticateParams) -> Reply:
    # One verified token per macaroon in the header; the fake's tokens are one each.
    return Reply([_verified(fly, _checked(call.tokens, p.header))])


def _checked(tokens: TokenBook | None, header: str) -> Token:
    if tokens is None or not header.strip():
        raise FakeBadRequestError("header is required: the Authorization header value to check")
    try:
        return tokens.authenticate(header)
    except FakeApiError:
        raise FakeBadRequestError("header holds no valid token") from None


def _verified(fly: FakeState, token: Token) -> dict[str, Any]:
    # Fly's root.VerifiedToken; the nonce's random bytes stand in for the macaroon's own.
    rnd = hashlib.sha256(token.token_id.encode()).digest()[:16]
    permission = hashlib.sha256(f"permission:{token.token_id}".encode()).digest()
    found = caveats(fly, token)
    as_bytes = _base64 if fly.shapes == "go" else list
    return {
        # Go's CaveatSet.MarshalJSON writes a bare array (superfly/macaroon caveat_set.go).
        "caveats": found if fly.shapes == "go" else {"caveats": found},
        "nonce": {"kid": as_bytes(rnd[:8]), "rnd": as_bytes(rnd), "proof": False},
        "permission_token": as_bytes(permission),
    }


def _base64(raw: bytes) -> str:
    # Go's encoding/json writes a []byte as standard base64 text; the nonce's KID and Rnd
    # are []byte (superfly/macaroon nonce.go), as is the permission token. The spec says
    # an array of integers, which the fake writes with shapes="spec".
    return base64.b64encode(raw).decode("ascii")


def _granted(fly: FakeState, token: Token, wanted: dict[str, Any]) -> dict[str, Any]:
    action = _action(wanted.get("action"))
    org_slug = wanted.get("org_slug")
    if not org_slug:
        # Fly checks every access against an org (superfly/macaroon flyio/access.go,
        # Access.Validate: "resource unspecified org").
        raise FakeBadRequestError("access.org_slug is required: Fly checks an access within an org")
    app_name = wanted.get("app_name")
    denied = (
        action & ~MASKS[token.scope]
        or org_slug != token.org
        or (app_name is not None and token.app not in (None, app_name))
    )
    if denied:
        raise FakeForbiddenError("the token does not grant this access")
    access: dict[str, Any] = {"orgid": fly.add_org(token.org, token.org).internal_numeric_id}
    if action in (0, READ, WRITE, CREATE, DELETE, CONTROL, ALL):
        access["action"] = action  # the spec's enum has no combinations such as "rw"
    app = fly.apps.get(app_name or "")
    if app is not None:
        access["appid"] = app.internal_numeric_id
    for key, wire in (
        ("machine_id", "machine"),
        ("command", "command"),
        ("volume_id", "volume"),
        ("app_feature", "app_feature"),
        ("machine_feature", "machine_feature"),
        ("org_feature", "feature"),
    ):
        if wanted.get(key) is not None:
            access[wire] = wanted[key]
    _check_caveats(fly, token, action, access)
    return access


def _check_caveats(fly: FakeState, token: Token, action: int, access: dict[str, Any]) -> None:
    # The token's own caveats decide too, as Fly's do: a narrowed token is refused here
    # what it would be refused on the call itself. No action asked: verify only.
    if not token.caveats or mac is None or action == 0:
        return
    command = access.get("command")
    asked = mac.Access(
        action=action,
        org_id=access["orgid"],
        app_id=access.get("appid"),
        machine=access.get("machine"),
        volume=access.get("volume"),
        command=tuple(command) if isinstance(command, list) else None,
        machine_feature=access.get("machine_feature"),
        app_feature=access.get("app_feature"),
        feature=access.get("feature"),
        now=fly.now(),
    )
    for caveat in token.caveats:
        denial = caveat.prohibits(asked)
        if denial is not None:
            raise FakeForbiddenError(denial.message)


def _action(value: Any) -> int:
    # Fly's JSON spells actions as letters ("rw"); a bitmask is taken too. None: verify only.
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= ALL:
        return value
    if isinstance(value, str) and set(value) <= set(LETTERS):
        return sum(1 << LETTERS.index(c) for c in set(value))
    raise FakeBadRequestError(f"access.action must be letters of {LETTERS!r}, e.g. 'rw'")


def caveats(fly: FakeState, token: Token) -> list[dict[str, Any]]:
    """The token's caveats in Fly's macaroon JSON form (``{type, body}``).

    A macaroon's are its own; a plain token's are those its scope would be minted with.
    """
    if mac is None:  # pragma: no cover - the test extra installs msgpack
        return []
    held = token.caveats or tuple(scope_caveats(fly, token))
    return [c.to_json() for c in held]
