"""A toolkit's policy as the credential: a reach token, and a one-call token per call.

With ``FlyToolkit(attenuate=True)`` the client's requests pass through
:class:`NarrowingTransport`. Each request goes out on a token narrowed from the user's:

- a call the toolkit allows goes on a **one-call token**: that target (the machine,
  volume, app or org the endpoint's ``access`` names), that action, no exec unless it is
  the exec approved (then only that exact argv), valid 60 seconds. A gated call gets one
  only after its approval receipt was redeemed for exactly that target.
- anything else goes on the **reach token**: the toolkit's app (numeric id, learnt once
  through ``/tokens/authorize``), the action bits every endpoint needing them is allowed
  and ungated in this toolkit (:func:`reach_mask`), a validity window.

So Fly refuses what the policy refuses even when a call skips the toolkit's own guards.
A token that is not a macaroon is sent as it is, and the toolkit says so once (a
warning log).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from fly_tools.catalogue import ENDPOINTS, Catalogue, Endpoint
from fly_tools.macaroons.caveats import (
    ALL,
    Action,
    Apps,
    Caveat,
    Machines,
    ValidityWindow,
    Volumes,
)
from fly_tools.macaroons.wire import NotAMacaroonError, attenuate, parse_header
from fly_tools.macaroons.wrappers import Command, Commands, IfPresent

logger = logging.getLogger("fly_tools.macaroons")
ONE_CALL_SECONDS = 60
EXEC = "fly_exec_machine"


def reach_mask(reach: Iterable[Endpoint], allowed: Callable[[Endpoint], bool]) -> int:
    """The action bits the reach token keeps: a bit stays only if every endpoint in
    reach that needs it is allowed (and ungated). Exec is left out: the reach token
    forbids exec with its own caveat, so its control bit does not take start and stop
    away."""
    mask = ALL
    for endpoint in reach:
        need = endpoint.access
        if need is None or endpoint.name == EXEC or allowed(endpoint):
            continue
        mask &= ~need.bits
    return mask


def reach_caveats(
    mask: int, app_id: int | None, now: float, ttl: float, *, exec_allowed: bool = False
) -> list[Caveat]:
    """The reach token's caveats: its app, its actions, no exec (unless allowed), its
    lifetime."""
    caveats: list[Caveat] = []
    if app_id is not None:
        caveats.append(Apps({app_id: mask}))
    caveats.append(Action(mask))
    if not exec_allowed:
        caveats.append(IfPresent((Commands(),), ALL))
    caveats.append(ValidityWindow(int(now) - 30, int(now + ttl)))
    return caveats


def one_call_caveats(
    endpoint: Endpoint,
    path: Mapping[str, str],
    app_id: int | None,
    now: float,
    command: tuple[str, ...] | None = None,
) -> list[Caveat]:
    """The caveats of a one-call token for ``endpoint`` on the target in ``path``."""
    need = endpoint.access
    bits = need.bits if need is not None else ALL
    caveats: list[Caveat] = [Action(bits)]
    if app_id is not None:
        caveats.append(Apps({app_id: bits}))
    resource = need.resource if need is not None else "org"
    if resource == "machine":
        caveats.append(Machines({path["machine_id"]: bits}))
    elif resource == "volume":
        caveats.append(Volumes({path["volume_id"]: bits}))
    elif resource == "app":  # the app itself: none of its machines or volumes
        caveats.append(IfPresent((Machines({"": 0}), Volumes({"": 0})), bits))
    else:  # the org (or the token itself): none of its apps
        caveats.append(IfPresent((Apps({0: 0}),), bits))
    if endpoint.name == EXEC:
        caveats.append(Commands((Command(command or (), exact=True),)))
    else:
        caveats.append(IfPresent((Commands(),), ALL))
    caveats.append(ValidityWindow(int(now), int(now) + ONE_CALL_SECONDS))
    return caveats


@dataclass
class Narrowing:
    """What the transport narrows to. The user's token is held here and never shown.

    Attributes:
        header: the user's ``Authorization`` header value.
        allowed: the toolkit's tool names (its policy's verdict per endpoint).
        gated: the names among them that need an approval first.
        app: the app the toolkit is bound to, if any.
        scope_reach: the endpoints the token's scope and binding can reach.
        clock: wall-clock seconds for validity windows (the fake's clock in tests).
        ttl: the reach token's lifetime in seconds.
    """

    header: str = field(repr=False)
    allowed: frozenset[str]
    gated: frozenset[str]
    app: str | None = None
    scope_reach: tuple[Endpoint, ...] = ()
    clock: Callable[[], float] = time.time
    ttl: float = 3600.0
    catalogue: Catalogue = field(default_factory=lambda: ENDPOINTS, repr=False)
    macaroon: bool = field(init=False)
    _permits: list[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=list)
    _issued: dict[Any, tuple[str, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        try:
            parse_header(self.header)
            self.macaroon = True
        except NotAMacaroonError:
            self.macaroon = False
            logger.warning(
                "attenuate=True: the token is not a Fly macaroon, so it cannot be narrowed; "
                "it is sent as it is and only this toolkit's own guards limit it"
            )

    def mask(self, *, app_pinned: bool = False) -> int:
        """The reach token's action bits; with the app pinned by an ``Apps`` caveat,
        org-wide endpoints are out of reach already and do not count."""
        ungated = self.allowed - self.gated
        reach = [
            e
            for e in self.scope_reach
            if not (app_pinned and e.access is not None and e.access.resource == "org")
        ]
        return reach_mask(reach, lambda e: e.name in ungated)

    def permit(self, endpoint: Endpoint, path: Mapping[str, Any]) -> None:
        """Let one request of ``endpoint`` on ``path``'s target out on a one-call token."""
        with self._lock:
            self._permits.append((endpoint.name, _key(endpoint, path)))

    def _take_permit(self, endpoint: Endpoint, path: Mapping[str, str]) -> bool:
        key = (endpoint.name, _key(endpoint, path))
        with self._lock:
            if key in self._permits:
                self._permits.remove(key)
                return True
        return False

    def may_go_alone(self, endpoint: Endpoint, path: Mapping[str, str]) -> bool:
        """Whether the toolkit allows this request a one-call token at all."""
        if endpoint.name not in self.allowed:
            return False
        return self.app is None or path.get("app_name", self.app) == self.app

    def header_for(
        self, request: httpx.Request, resolve: Callable[[str | None], int | None]
    ) -> str:
        """The narrowed ``Authorization`` header ``request`` goes out with."""
        now = self.clock()
        app_id = resolve(self.app) if self.app else None
        matched = match(self.catalogue, request.method, request.url.path)
        if matched is not None and self.may_go_alone(*matched):
            one_call = self._one_call(request, *matched, resolve, app_id, now)
            if one_call is not None:
                return one_call
        mask = self.mask(app_pinned=app_id is not None)
        return attenuate(self.header, reach_caveats(mask, app_id, now, self.ttl))

    def _one_call(
        self,
        request: httpx.Request,
        endpoint: Endpoint,
        path: Mapping[str, str],
        resolve: Callable[[str | None], int | None],
        app_id: int | None,
        now: float,
    ) -> str | None:
        key = (endpoint.name, _key(endpoint, path))
        gated = endpoint.name in self.gated
        if gated:
            with self._lock:
                issued = self._issued.get(key)
            # A retry of the approved request within the minute reuses its token: the
            # token, not the toolkit, is what limits it.
            if issued is not None and now < issued[1]:
                return issued[0]
            if not self._take_permit(endpoint, path):
                return None
        target_app = resolve(path["app_name"]) if "app_name" in path else app_id
        command = _command(request) if endpoint.name == EXEC else None
        header = attenuate(self.header, one_call_caveats(endpoint, path, target_app, now, command))
        if gated:
            with self._lock:
                self._issued[key] = (header, now + ONE_CALL_SECONDS)
        return header


def _key(endpoint: Endpoint, path: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((p, str(path.get(p))) for p in endpoint.path_params))


def _command(request: httpx.Request) -> tuple[str, ...]:
    try:
        argv = json.loads(request.content or b"{}").get("command")
    except (ValueError, AttributeError):
        return ()
    return tuple(str(a) for a in argv) if isinstance(argv, list) else ()


_PATTERNS: dict[int, list[tuple[re.Pattern[str], Endpoint]]] = {}


def match(
    catalogue: Catalogue, method: str, url_path: str
) -> tuple[Endpoint, dict[str, str]] | None:
    """The endpoint a request calls and its path values (paths under ``/v1``)."""
    patterns = _PATTERNS.get(id(catalogue))
    if patterns is None:
        patterns = [
            (
                re.compile(
                    "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(e.path)) + "$"
                ),
                e,
            )
            for e in catalogue.records
        ]
        _PATTERNS[id(catalogue)] = patterns
    path = url_path.split("/v1", 1)[1] if "/v1/" in url_path else url_path
    for pattern, endpoint in patterns:
        found = pattern.match(path)
        if found and endpoint.method == method:
            return endpoint, found.groupdict()
    return None
