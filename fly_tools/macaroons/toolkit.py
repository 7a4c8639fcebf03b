"""Wiring a toolkit to narrowed tokens: ``FlyToolkit(attenuate=True)``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from fly_tools.catalogue import Catalogue, Endpoint
from fly_tools.client import AsyncFlyClient, FlyClient
from fly_tools.client.settings import SecretToken, authorization_header
from fly_tools.macaroons.narrow import Narrowing, reach_caveats
from fly_tools.macaroons.transport import NarrowingTransport
from fly_tools.macaroons.wire import attenuate
from fly_tools.risk import RiskTier


@dataclass(frozen=True)
class Attenuation:
    """How a toolkit narrows its token.

    Attributes:
        ttl: seconds the reach token is valid (one-call tokens: 60).
        clock: wall-clock seconds for validity windows; a fake's clock in tests.
    """

    ttl: float = 3600.0
    clock: Callable[[], float] = time.time


def narrow_client(
    client: FlyClient | AsyncFlyClient,
    *,
    endpoints: Iterable[Endpoint],
    app: str | None,
    confirm_at: RiskTier,
    catalogue: Catalogue,
    settings: Attenuation | bool = True,
) -> FlyClient | AsyncFlyClient:
    """A client like ``client`` whose requests go out on narrowed tokens.

    Its own token is the reach token without the app pin (narrowed offline); each
    request's header is set by :class:`NarrowingTransport`. A token that is not a
    macaroon is kept as it is.
    """
    chosen = tuple(endpoints)
    options = settings if isinstance(settings, Attenuation) else Attenuation()
    header = authorization_header(client.token)
    narrowing = Narrowing(
        header=header,
        allowed=frozenset(e.name for e in chosen),
        gated=frozenset(e.name for e in chosen if e.risk >= confirm_at and e.risk > RiskTier.READ),
        app=app,
        scope_reach=tuple(catalogue.records),
        clock=options.clock,
        ttl=options.ttl,
        catalogue=catalogue,
    )
    config = client.config
    if narrowing.macaroon:
        reach = attenuate(
            header, reach_caveats(narrowing.mask(), None, options.clock(), options.ttl)
        )
        config = replace(config, token=SecretToken(reach.removeprefix("FlyV1 ")))
    transport = NarrowingTransport(narrowing, client.transport)
    if isinstance(client, FlyClient):
        return FlyClient.from_config(config, transport=transport, sleep=client.sleep)
    return AsyncFlyClient.from_config(config, transport=transport, sleep=client.sleep)


def permit_on_redeem(receipts: Any, client: FlyClient | AsyncFlyClient) -> None:
    """Let each redeemed approval send its one call on a one-call token."""
    transport = client.transport
    if not isinstance(transport, NarrowingTransport):
        return
    narrowing = transport.narrowing
    redeem = receipts.redeem

    def redeem_and_permit(receipt: Any, endpoint: Endpoint, args: Any) -> str | None:
        reason: str | None = redeem(receipt, endpoint, args)
        if reason is None:
            narrowing.permit(endpoint, {p: getattr(args, p, None) for p in endpoint.path_params})
        return reason

    receipts.redeem = redeem_and_permit
