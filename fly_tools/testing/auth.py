"""Tokens and scopes in the fake: who may call which endpoint on which app.

The endpoint catalogue says which scopes may call each endpoint; a token's org (and,
for app-bound tokens, its app) says what it reaches. The answers follow Fly:

- missing or unknown token: 401.
- a scope the endpoint does not allow: 403, with a message naming what the token can
  do. A ``readonly`` token writing gets ``token is read-only``; a ``machine-exec``
  token doing anything but exec gets ``token can only run exec``; a ``deploy`` token
  listing or creating apps gets ``needs an org token`` (it is bound to one app).
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
from dataclasses import dataclass

from fly_tools.catalogue import Endpoint
from fly_tools.risk import Scope, parse_scope
from fly_tools.testing.errors import FakeForbiddenError, FakeNotFoundError, FakeUnauthorizedError
from fly_tools.testing.state import FakeState, app_not_found

_SCHEMES = ("bearer", "flyv1")
_REFUSALS: dict[Scope, str] = {
    "readonly": "token is read-only: it cannot make changes",
    "machine-exec": "token can only run exec in machines",
    "deploy": "this action needs an org token: deploy tokens are bound to one app",
    "org": "this action is not available to org tokens",
}


@dataclass(frozen=True)
class Token:
    """What an issued token may do. The token string itself is not kept here.

    Attributes:
        scope: ``org``, ``deploy``, ``readonly`` or ``machine-exec``.
        org: the org slug it belongs to.
        app: the one app it is bound to, if any.
        owner: who holds leases taken with it.
    """

    scope: Scope
    org: str
    app: str | None
    owner: str
    token_id: str = ""


class TokenBook:
    """Issues tokens and recognises them in ``Authorization`` headers."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def issue(self, scope: str, org: str, app: str | None = None) -> str:
        """A new macaroon-looking token (``fm2_...``) with this scope."""
        checked = parse_scope(scope)
        if checked == "deploy" and app is None:
            raise ValueError("a deploy token is bound to one app: pass app=...")
        value = "fm2_" + secrets.token_urlsafe(32)
        owner = f"{checked}-token@{org}" if app is None else f"{checked}-token@{app}.{org}"
        self._tokens[value] = Token(checked, org, app, owner, "tok_" + secrets.token_hex(8))
        return value

    def revoke(self, value: str) -> None:
        """Make a token unknown (as if it expired)."""
        self._tokens.pop(value, None)

    def authenticate(self, header: str | None) -> Token:
        """The token in an ``Authorization`` header: ``Bearer x``, ``FlyV1 x[,y]`` or bare."""
        if not header or not header.strip():
            raise FakeUnauthorizedError(
                "missing Authorization header: send 'Authorization: Bearer <token>'"
            )
        scheme, _, rest = header.strip().partition(" ")
        value = rest if scheme.lower() in _SCHEMES else header
        for part in value.split(","):
            token = self._tokens.get(part.strip())
            if token is not None:
                return token
        raise FakeUnauthorizedError("invalid or expired token")


def authorize(fly: FakeState, token: Token, endpoint: Endpoint, app_name: str | None) -> None:
    """Refuse the call unless ``token`` may call ``endpoint`` on ``app_name``."""
    if token.scope not in endpoint.scopes:
        raise FakeForbiddenError(_REFUSALS[token.scope])
    if app_name is None:
        return
    app = fly.apps.get(app_name)
    if app is None or fly.now() < app.ready_at or token.app not in (None, app_name):
        raise app_not_found(app_name)
    if app.org.slug != token.org:
        raise FakeForbiddenError(f"not authorized to access app {app_name!r}")


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
