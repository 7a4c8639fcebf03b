"""What the API token may do, as Fly tells it: ``/tokens/current`` and ``/tokens/authorize``.

Both are catalogue records (``fly_get_current_token``, ``fly_authorize_token``, group
``credentials``); the flows here let a program learn its token's reach before choosing a
toolkit, and :func:`scope_from_current_token` maps Fly's answers to one of the scopes
:data:`fly_tools.risk.SCOPES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fly_tools.catalogue import ENDPOINTS
from fly_tools.client.core import build_request
from fly_tools.client.flows import Flow
from fly_tools.risk import Scope

READ_ONLY_MASKS = frozenset({"r", "1"})
"""Organization caveat masks that allow reading only (Fly's ``resset.Action`` read bit)."""
ACTION_LETTERS = "rwcdC"
"""Fly's ``resset.Action`` bits 1, 2, 4, 8, 16 as the letters its JSON uses."""


def current_token_flow() -> Flow:
    """One GET ``/tokens/current``."""
    # Looked up per call: the records' area is imported when a token is first checked.
    endpoint = ENDPOINTS["fly_get_current_token"]
    return (yield build_request(endpoint, endpoint.args_model()))


def authorize_flow(header: str, access: Mapping[str, Any]) -> Flow:
    """One POST ``/tokens/authorize`` checking ``header`` (the client's own) for ``access``.

    ``access`` is Fly's ``TokenAccess`` as given (an action bitmask is turned into letters);
    the tool form, ``fly_authorize_token``, validates each field instead.
    """
    body = {"header": header, "access": wire_access(access)}
    endpoint = ENDPOINTS["fly_authorize_token"]  # loads the platform area, and its models
    from fly_tools.models.platform import AuthorizeTokenArgs

    # The body is given whole; the model only carries the record's shape.
    args = AuthorizeTokenArgs.model_construct(org_slug=str(access.get("org_slug") or ""))
    return (yield build_request(endpoint, args, body=body))


def wire_access(access: Mapping[str, Any]) -> dict[str, Any]:
    """``access`` in Fly's JSON: an action bitmask becomes its letters (``3`` -> ``"rw"``);
    no action (``0``) is left out, which asks Fly only to verify the token."""
    wire = dict(access)
    action = wire.pop("action", None)
    if isinstance(action, int) and not isinstance(action, bool):
        action = "".join(c for n, c in enumerate(ACTION_LETTERS) if action & (1 << n))
    if action:
        wire["action"] = action
    return wire


class UnknownScopeError(ValueError):
    """Fly's answers do not tell the token's scope (an unknown shape, or no org named)."""


def org_of(answer: Mapping[str, Any]) -> str | None:
    """The org slug ``GET /tokens/current`` names first, or ``None`` when it names none.

    ``POST /tokens/authorize`` needs it: Fly checks every access against an org
    (superfly/macaroon ``flyio/access.go``, ``Access.Validate``: "resource unspecified org").
    """
    for info in answer.get("tokens") or []:
        if isinstance(info, Mapping) and isinstance(info.get("org_slug"), str) and info["org_slug"]:
            return str(info["org_slug"])
    return None


def scope_from_current_token(
    answer: Mapping[str, Any], authorized: Mapping[str, Any] | None = None
) -> tuple[Scope, tuple[str, ...]]:
    """The scope a token has, and the apps it is limited to, from Fly's answers.

    How Fly's answers map to scopes:

    - ``GET /tokens/current`` lists one entry per macaroon with ``org_slug`` and
      ``apps``. Non-empty ``apps`` means an app-bound token: ``deploy``, limited to them.
    - Readonly and exec-only tokens differ from org tokens only in their caveats, which
      that answer does not show. ``POST /tokens/authorize`` does: pass its answer as
      ``authorized``. A ``Commands`` caveat means ``machine-exec``; an ``Organization``
      caveat whose ``mask`` allows reading only means ``readonly``.
    - Anything else is ``org``. Without ``authorized`` a readonly or exec token also
      reads as ``org`` (or ``deploy``); Fly still refuses what the token may not do.

    Args:
        answer: the JSON of ``GET /tokens/current``.
        authorized: the JSON of ``POST /tokens/authorize`` for the same token, if asked.

    Returns:
        ``(scope, apps)``; ``apps`` is empty unless the token is bound to apps.

    Raises:
        UnknownScopeError: the caveats in ``authorized`` are in neither shape Fly uses.
    """
    infos = [i for i in answer.get("tokens") or [] if isinstance(i, Mapping)]
    apps = tuple(sorted({str(app) for info in infos for app in info.get("apps") or []}))
    kinds = {str(c.get("type")): c.get("body") for c in caveats_of(authorized)}
    if "Commands" in kinds:
        return "machine-exec", apps
    organization = kinds.get("Organization")
    if isinstance(organization, Mapping) and str(organization.get("mask")) in READ_ONLY_MASKS:
        return "readonly", apps
    return ("deploy" if apps else "org"), apps


def caveats_of(authorized: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The caveats of ``authorized["verified_token"]``, in either shape Fly may send.

    Fly's Go server encodes a ``CaveatSet`` as a bare array of ``{type, body}``
    (superfly/macaroon ``caveat_set.go``, ``CaveatSet.MarshalJSON``); the OpenAPI spec
    describes ``{"caveats": [...]}``. Both are read; any other shape raises, so a
    caller never takes an unreadable answer for "no caveats".

    Raises:
        UnknownScopeError: neither shape.
    """
    verified = (authorized or {}).get("verified_token")
    if verified is None:
        return []
    if not isinstance(verified, Mapping):
        raise UnknownScopeError("verified_token is not an object")
    caveats = verified.get("caveats")
    if isinstance(caveats, Mapping):  # the spec's shape
        caveats = caveats.get("caveats")
    if caveats is None:
        return []
    if not isinstance(caveats, list) or not all(isinstance(c, Mapping) for c in caveats):
        raise UnknownScopeError("the token's caveats are in a shape this version cannot read")
    return caveats
