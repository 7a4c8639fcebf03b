"""Tokens and scopes in the fake: who may call which endpoint on which app.

The fake's ready-made tokens are Fly macaroons (``fm2_...``) minted from the fake's own
root key, with the caveats Fly gives each kind of token (:func:`scope_caveats`). A
request's token is verified (the HMAC chain from the root key) and the caveats it holds,
the minted ones and any added since by whoever held it, are checked against the
request's access (the endpoint's ``access`` record: resource and action bits). A caveat
the fake does not know refuses, as on Fly. Plain bearer tokens (``issue(plain=True)``,
or any token when ``msgpack`` is not installed) carry no caveats; the scope alone
decides for them. The answers follow Fly:

- missing or unknown token, or one whose signature does not verify: 401.
- a scope the endpoint does not allow: 403, with a message naming what the token can
  do. A ``readonly`` token writing gets ``token is read-only``; a ``machine-exec``
  token doing anything but exec gets ``token can only run exec``; a ``deploy`` token
  listing or creating apps gets ``needs an org token`` (it is bound to one app).
- a caveat that forbids the access: 403 with Fly's words (``unauthorized for access d
  on volume (d not allowed)``, ``token only valid until ...``).
- another organization's app: 403, as Fly answers (fly-go reads a 403 on get-app as
  "the name is taken by an app you cannot access").
- for an app-bound token, another app of its own org: 404 ``app ... not found, or the
  token's scope cannot reach it``, the same answer as for an app that does not exist.
- an app that does not exist, or that was created a moment ago and is not served yet
  (:data:`~fly_tools.testing.state.APP_READY_DELAY`): 404.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from fly_tools.catalogue import Endpoint
from fly_tools.risk import Scope, parse_scope
from fly_tools.testing.errors import FakeForbiddenError, FakeNotFoundError, FakeUnauthorizedError
from fly_tools.testing.state import FakeState, app_not_found

if TYPE_CHECKING:
    from fly_tools.macaroons import Access, Caveat

try:  # the macaroons extra; without it the fake's tokens are plain bearer strings
    from fly_tools import macaroons as mac
except ImportError:  # pragma: no cover - the test extra installs msgpack
    mac = None  # type: ignore[assignment]

_SCHEMES = ("bearer", "flyv1")
_REFUSALS: dict[Scope, str] = {
    "readonly": "token is read-only: it cannot make changes",
    "machine-exec": "token can only run exec in machines",
    "deploy": "this action needs an org token: deploy tokens are bound to one app",
    "org": "this action is not available to org tokens",
}
_ALL, _READ, _CONTROL = 31, 1, 16
MASKS: dict[Scope, int] = {"org": _ALL, "deploy": _ALL, "readonly": _READ, "machine-exec": _CONTROL}
"""The actions (Fly's ``resset.Action`` bits) each scope's token grants its org."""


@dataclass(frozen=True)
class Token:
    """What an issued token may do. The token string itself is not kept here.

    Attributes:
        scope: ``org``, ``deploy``, ``readonly`` or ``machine-exec``.
        org: the org slug it belongs to.
        app: the one app it is bound to, if any.
        owner: who holds leases taken with it.
        token_id: the id Fly shows for it (also the macaroon's key id).
        caveats: the verified caveats of the macaroon presented (none for plain tokens).
    """

    scope: Scope
    org: str
    app: str | None
    owner: str
    token_id: str = ""
    caveats: tuple[Caveat, ...] = ()


class TokenBook:
    """Issues tokens and recognises them in ``Authorization`` headers."""

    def __init__(self) -> None:
        self._plain: dict[str, Token] = {}
        self._minted: dict[bytes, Token] = {}
        self._key = secrets.token_bytes(32)

    def issue(
        self,
        scope: str,
        org: str,
        app: str | None = None,
        state: FakeState | None = None,
        *,
        plain: bool = False,
    ) -> str:
        """A new token with this scope: a macaroon ``fm2_...`` unless ``plain``.

        ``state`` gives the numeric org and app ids the caveats name.
        """
        checked = parse_scope(scope)
        if checked == "deploy" and app is None:
            raise ValueError("a deploy token is bound to one app: pass app=...")
        owner = f"{checked}-token@{org}" if app is None else f"{checked}-token@{app}.{org}"
        token = Token(checked, org, app, owner, "tok_" + secrets.token_hex(8))
        if plain or mac is None or state is None:
            value = "fm2_" + secrets.token_urlsafe(32)
            self._plain[value] = token
            return value
        self._minted[token.token_id.encode()] = token
        return mac.mint(self._key, token.token_id.encode(), scope_caveats(state, token))

    def revoke(self, value: str) -> None:
        """Make a token unknown (as if it expired), with every token narrowed from it."""
        self._plain.pop(value, None)
        for macaroon in _macaroons(value):
            self._minted.pop(macaroon.kid, None)

    def authenticate(self, header: str | None) -> Token:
        """The token in an ``Authorization`` header: ``Bearer x``, ``FlyV1 x[,y]`` or bare."""
        if not header or not header.strip():
            raise FakeUnauthorizedError(
                "missing Authorization header: send 'Authorization: Bearer <token>'"
            )
        scheme, _, rest = header.strip().partition(" ")
        value = rest if scheme.lower() in _SCHEMES else header
        for part in value.split(","):
            token = self._plain.get(part.strip())
            if token is not None:
                return token
        for part in value.split(","):
            for macaroon in _macaroons(part):
                token = self._minted.get(macaroon.kid)
                if token is not None and macaroon.verify(self._key):
                    return replace(token, caveats=macaroon.caveats)
        raise FakeUnauthorizedError("invalid or expired token")


def _macaroons(part: str) -> list[Any]:
    # Fly's permission tokens only; anything unreadable is skipped, as a stray discharge is.
    if mac is None:
        return []
    try:
        return mac.permission_tokens(part.strip())
    except ValueError:
        return []


def scope_caveats(fly: FakeState, token: Token) -> list[Caveat]:
    """The caveats Fly mints for a token of this scope (flyctl ``tokens create``).

    Every token names its org and the actions it grants there; an app-bound token names
    its app; an exec token allows commands only (any command).
    """
    assert mac is not None
    # Looked up first: add_org draws an id even for an org that exists, and the demo
    # world's ids must not depend on how many tokens were minted.
    org = fly.orgs.get(token.org) or fly.add_org(token.org, token.org)
    found: list[Caveat] = [mac.Organization(org.internal_numeric_id, MASKS[token.scope])]
    app = fly.apps.get(token.app or "")
    if app is not None:
        found.append(mac.Apps({app.internal_numeric_id: MASKS[token.scope]}))
    if token.scope == "machine-exec":
        found.append(mac.Commands((mac.Command(()),)))
    return found


def authorize(
    fly: FakeState,
    token: Token,
    endpoint: Endpoint,
    path: Mapping[str, str] | str | None,
    body: bytes | None = None,
) -> None:
    """Refuse the call unless ``token`` may call ``endpoint`` with these path values.

    ``path`` is the request's path values (an app name alone is taken too).
    """
    values = {"app_name": path} if isinstance(path, str) else dict(path or {})
    app_name = values.get("app_name")
    if token.scope not in endpoint.scopes:
        raise FakeForbiddenError(_REFUSALS[token.scope])
    if app_name is not None:
        app = fly.apps.get(app_name)
        if app is None or fly.now() < app.ready_at or token.app not in (None, app_name):
            raise app_not_found(app_name)
        if app.org.slug != token.org:
            raise FakeForbiddenError(f"not authorized to access app {app_name!r}")
    if token.caveats:
        denial = first_denial(
            token.caveats, access_of(fly, token, endpoint, values, body), endpoint
        )
        if denial is not None:
            raise FakeForbiddenError(denial)


def first_denial(caveats: tuple[Caveat, ...], access: Access, endpoint: Endpoint) -> str | None:
    """Fly's words for the first caveat that forbids ``access``, or ``None``.

    A call that only needs a valid token (``access`` resource ``token``) answers to the
    caveats that name no resource: actions, validity windows, and unknown ones.
    """
    assert mac is not None
    resource_free = (mac.Action, mac.ValidityWindow, mac.Unknown)
    token_only = endpoint.access is not None and endpoint.access.resource == "token"
    for caveat in caveats:
        if token_only and not isinstance(caveat, resource_free):
            continue
        denial = caveat.prohibits(access)
        if denial is not None:
            return denial.message
    return None


def access_of(
    fly: FakeState,
    token: Token,
    endpoint: Endpoint,
    path: Mapping[str, str],
    body: bytes | None,
) -> Access:
    """The access a request asks, as Fly would check it (numeric ids, fake time)."""
    assert mac is not None
    need = endpoint.access
    resource = need.resource if need is not None else "org"
    app = fly.apps.get(path.get("app_name") or "") if resource != "org" else None
    org = app.org if app is not None else fly.orgs.get(token.org)
    command = _command(body) if endpoint.name == "fly_exec_machine" else None
    return mac.Access(
        action=need.bits if need is not None else _ALL,
        org_id=org.internal_numeric_id if org is not None else None,
        app_id=app.internal_numeric_id if app is not None else None,
        machine=path.get("machine_id") if resource == "machine" else None,
        volume=path.get("volume_id") if resource == "volume" else None,
        command=command,
        machine_feature=need.feature if need is not None else None,
        now=fly.now(),
    )


def _command(body: bytes | None) -> tuple[str, ...]:
    try:
        argv = json.loads(body or b"{}").get("command")
    except (ValueError, AttributeError):
        return ()
    return tuple(str(a) for a in argv) if isinstance(argv, list) else ()


def resolve_org(token: Token, org_slug: str) -> str:
    """The org a request names, as seen by ``token`` (``personal`` is the token's own)."""
    if org_slug in ("personal", token.org):
        return token.org
    raise FakeNotFoundError(
        f"organization {org_slug!r} not found, or the token's scope cannot reach it"
    )


def oidc_token(token: Token, *, aud: str | None, now: float, aws_principal_tags: bool) -> str:
    """A JWT-shaped OIDC token for ``token``'s org (and app), with audience ``aud``.

    The signature is random bytes: the fake is no identity provider.
    """
    claims: dict[str, object] = {
        "iss": f"https://oidc.fly.io/{token.org}",
        "aud": aud or f"https://fly.io/{token.org}",
        "sub": f"{token.org}:{token.app or '*'}:*",
        "org_name": token.org,
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + 600,
        "jti": secrets.token_hex(16),
    }
    if token.app is not None:
        claims["app_name"] = token.app
    if aws_principal_tags:
        tags = {"org_name": [token.org], "app_name": [token.app or ""]}
        claims["https://aws.amazon.com/tags"] = {"principal_tags": tags}
    header = {"alg": "RS256", "kid": "fake-fly-oidc", "typ": "JWT"}
    parts = [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode())]
    return ".".join([*parts, _b64(secrets.token_bytes(256))])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
