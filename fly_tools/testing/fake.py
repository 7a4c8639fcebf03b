"""FakeFly: the embedded fake Fly Machines API, used in-process or over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from fly_tools.catalogue import Endpoint
from fly_tools.risk import SCOPES
from fly_tools.testing.auth import TokenBook
from fly_tools.testing.clock import FakeClock
from fly_tools.testing.faults import Fault, FaultRule
from fly_tools.testing.http import AsgiApp, Dispatcher, FakeTransport, LoggedRequest
from fly_tools.testing.ids import IdSource
from fly_tools.testing.ratelimit import ServerRateLimiter
from fly_tools.testing.state import APP_READY_DELAY, FakeState, Shapes
from fly_tools.testing.world import ORG_NAME, ORG_SLUG, seed_demo_world

if TYPE_CHECKING:
    from fly_tools.client import AsyncFlyClient, FlyClient

BASE_URL = "https://api.machines.dev"
"""The base URL in-process clients use; the transport answers for any host."""
DEPLOY_APP = "web"
"""The app the ready-made deploy token in :attr:`FakeFly.tokens` is bound to."""


class SpecViolationError(AssertionError):
    """A response of the fake does not match Fly's OpenAPI spec."""


class FakeFly:
    """A stateful, scoped stand-in for the Fly Machines API.

    Args:
        rate_limits: enforce Fly's per-action rate limits (429 with ``Retry-After``).
        clock: the fake's clock; a virtual :class:`FakeClock` by default.
        org: slug of the organization the ready-made tokens belong to.
        org_name: its display name.
        seed: seed for generated ids (the same seed gives the same ids).
        validate: check every response against the OpenAPI spec and raise
            :class:`SpecViolationError` on a mismatch; defaults to
            :attr:`validate_responses` (which the fake's own tests switch on).
        app_ready_delay: fake seconds a new app answers 404 before it is served, as on
            Fly (0 makes new apps usable at once).
        shapes: ``"go"`` (the default) answers as Fly's Go server encodes, ``"spec"`` as
            the OpenAPI spec describes, where the two differ (e.g. a token's caveats: a
            bare array from Go, ``{"caveats": [...]}`` in the spec); see ENDPOINTS.md,
            "Go-shaped answers".

    Attributes:
        clock: the fake's clock.
        tokens: one ready-made token per scope (``org``, ``deploy`` bound to app
            ``web``, ``readonly``, ``machine-exec``).
        spec_violations: every mismatch found while validating.
    """

    validate_responses: ClassVar[bool] = False

    def __init__(
        self,
        *,
        rate_limits: bool = False,
        clock: FakeClock | None = None,
        org: str = "acme",
        org_name: str | None = None,
        seed: int = 0,
        validate: bool | None = None,
        app_ready_delay: float = APP_READY_DELAY,
        shapes: Shapes = "go",
    ) -> None:
        if shapes not in ("go", "spec"):
            raise ValueError(f"shapes must be 'go' or 'spec', not {shapes!r}")
        self.shapes: Shapes = shapes
        self.clock = clock or FakeClock()
        self.app_ready_delay = app_ready_delay
        self.org = org
        self.org_name = org_name or org.title()
        self._seed = seed
        self._seeders: list[Callable[[FakeFly], None]] = []
        self._token_book = TokenBook()
        self.spec_violations: list[str] = []
        check = self._check if (self.validate_responses if validate is None else validate) else None
        self._dispatcher = Dispatcher(self._new_state(), self._token_book, check=check)
        self.rate_limits = rate_limits
        self.tokens: dict[str, str] = {
            scope: self.issue_token(scope, app=DEPLOY_APP if scope == "deploy" else None)
            for scope in SCOPES
        }

    @classmethod
    def demo(cls, **kwargs: Any) -> FakeFly:
        """A fake holding the demo world of :mod:`fly_tools.testing.world`."""
        kwargs.setdefault("org", ORG_SLUG)
        kwargs.setdefault("org_name", ORG_NAME)
        fake = cls(**kwargs)
        # The world fills the state model only: it never needs the facade.
        fake.add_seeder(lambda seeded: seed_demo_world(seeded.state))
        return fake

    def add_seeder(self, seeder: Callable[[FakeFly], None]) -> None:
        """Run ``seeder(fake)`` now and again after every :meth:`reset`."""
        self._seeders.append(seeder)
        seeder(self)

    # ------------------------------------------------------------ state

    @property
    def state(self) -> FakeState:
        """The state model (apps, machines, volumes, secrets), for assertions."""
        return self._dispatcher.state

    @property
    def rate_limits(self) -> bool:
        """Whether Fly's rate limits are enforced."""
        return self._dispatcher.limiter is not None

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self._dispatcher.limiter = ServerRateLimiter(self.clock) if enabled else None

    def reset(self) -> None:
        """Back to the initial world: state, faults, request log and rate limits.

        Issued tokens stay valid and existing transports and clients keep working.
        """
        with self._dispatcher.lock:
            self._dispatcher.state = self._new_state()
            self._dispatcher.faults.clear()
            self._dispatcher.log.clear()
            self.rate_limits = self.rate_limits
            for seeder in self._seeders:
                seeder(self)

    def _new_state(self) -> FakeState:
        state = FakeState(
            self.clock,
            IdSource(self._seed),
            app_ready_delay=self.app_ready_delay,
            shapes=self.shapes,
        )
        state.add_org(self.org, self.org_name)
        return state

    def set_txt_record(self, name: str, value: str) -> None:
        """Publish a DNS TXT record, as a domain's owner does at their DNS provider.

        Fly activates an uploaded certificate once ``_fly-ownership.<hostname>`` holds
        the value its ``dns_requirements.ownership`` names (ENDPOINTS.md, certificates).
        """
        self.state.dns_txt[name.lower().rstrip(".")] = value

    # ------------------------------------------------------------ tokens

    def issue_token(
        self,
        scope: str = "org",
        org: str | None = None,
        app: str | None = None,
        *,
        plain: bool = False,
    ) -> str:
        """A new token: a Fly macaroon minted from the fake's root key.

        Args:
            scope: ``org``, ``deploy``, ``readonly`` or ``machine-exec``.
            org: the organization (this fake's by default).
            app: bind the token to one app (required for ``deploy``).
            plain: a plain bearer token instead, with no caveats (the scope alone decides).
        """
        return self._token_book.issue(scope, org or self.org, app, self.state, plain=plain)

    def revoke_token(self, token: str) -> None:
        """Make ``token`` unknown, as an expired or deleted token is."""
        self._token_book.revoke(token)

    # ------------------------------------------------------------ wiring

    def transport(self) -> FakeTransport:
        """An httpx transport for ``httpx.Client`` and ``httpx.AsyncClient`` (no sockets)."""
        return FakeTransport(self._dispatcher)

    def asgi_app(self) -> AsgiApp:
        """The fake as an ASGI application."""
        return AsgiApp(self._dispatcher)

    def client(self, scope: str = "org", app: str | None = None, **kwargs: Any) -> FlyClient:
        """A :class:`~fly_tools.client.FlyClient` wired to this fake with a ``scope`` token.

        The client sleeps and keeps deadlines on the fake's clock, so its retries and
        wait loops cost no real time under virtual time. Keyword arguments override
        these defaults (``rate_limit=False`` among them).
        """
        from fly_tools.client import FlyClient

        options = {"sleep": self.clock.sleep} | self._client_options(scope, app)
        return FlyClient(**options | kwargs)

    def async_client(
        self, scope: str = "org", app: str | None = None, **kwargs: Any
    ) -> AsyncFlyClient:
        """An :class:`~fly_tools.client.AsyncFlyClient` wired to this fake, like :meth:`client`."""
        from fly_tools.client import AsyncFlyClient

        options = {"sleep": self.clock.asleep} | self._client_options(scope, app)
        return AsyncFlyClient(**options | kwargs)

    def _client_options(self, scope: str, app: str | None) -> dict[str, Any]:
        ready = app is None or (scope == "deploy" and app == DEPLOY_APP)
        token = self.tokens[scope] if ready else self.issue_token(scope, app=app)
        return {
            "token": token,
            "base_url": BASE_URL,
            "transport": self.transport(),
            # The fake enforces Fly's limits itself when asked to.
            "rate_limit": False,
            "clock": self.clock.now,
        }

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve the fake over HTTP with uvicorn in a thread; yields the base URL.

        Paths are under ``/v1`` as on Fly: give clients the yielded URL as base URL.
        Under a virtual clock time still moves only by :meth:`FakeClock.advance` and
        wait requests; build the fake with ``clock=FakeClock.real()`` for a server
        whose machines settle on their own.
        """
        from fly_tools.testing.server import serve_in_thread

        with serve_in_thread(self.asgi_app(), host, port) as base_url:
            yield base_url

    # ------------------------------------------------------------ faults and log

    def inject(self, fault: Fault, count: int = 1, match: str | None = None) -> FaultRule:
        """Apply ``fault`` to the next ``count`` requests selected by ``match``.

        ``match``: ``None`` (every request), an endpoint name (``"fly_create_machine"``)
        or ``"[METHOD ]/path"`` with ``*`` for one path segment (``"POST /apps/*/machines"``).
        """
        if count < 1:
            raise ValueError("count must be >= 1")
        rule = FaultRule(fault, count, match)
        with self._dispatcher.lock:
            self._dispatcher.faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self._dispatcher.faults.clear()

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request so far, oldest first (never with headers or bodies)."""
        return list(self._dispatcher.log)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._dispatcher.log.clear()

    def _check(
        self, endpoint: Endpoint | None, status: int, content_type: str, body: bytes
    ) -> None:
        from fly_tools.testing.openapi import default_checker

        operation = endpoint.operation_id if endpoint is not None else None
        problems = default_checker().problems(operation, status, content_type, body)
        if problems:
            self.spec_violations.extend(problems)
            raise SpecViolationError("\n".join(problems))

    def __repr__(self) -> str:
        apps = len(self.state.apps)
        return f"FakeFly(org={self.org!r}, apps={apps}, clock={self.clock!r})"
