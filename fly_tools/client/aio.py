"""AsyncFlyClient: the asyncio Fly Machines API client (I/O only; decisions live in core)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from fly_tools.catalogue import Endpoint
from fly_tools.client import core, flows, tokens
from fly_tools.client.errors import ConfigurationError, FlyError
from fly_tools.client.limiters import Limiter, apace
from fly_tools.client.settings import (
    ClientConfig,
    ConfiguredClient,
    SecretToken,
    authorization_header,
)
from fly_tools.models.args import FlyArgs

AsyncSleep = Callable[[float], Awaitable[None]]


class AsyncFlyClient(ConfiguredClient):
    """The awaitable twin of :class:`~fly_tools.client.FlyClient`: same arguments and methods.

    ``sleep`` is an async callable (default :func:`asyncio.sleep`). A Redis ``limiter``
    is asked through redis.asyncio, so pacing never blocks the event loop. Use ``await
    client.call(...)``, ``await client.aclose()`` or ``async with AsyncFlyClient() as client``.
    :func:`~fly_tools.client.async_twin` and :func:`~fly_tools.client.sync_twin` turn one
    client into the other, sharing settings, transport and rate limiter.

    Raises:
        ConfigurationError: no token, or a malformed token or base URL.
    """

    def __init__(
        self,
        token: str | SecretToken | None = None,
        *,
        base_url: str | None = None,
        internal: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | None = None,
        rate_limit: bool | Limiter = True,
        limiter: Limiter | str | None = None,
        max_retries: int = 3,
        sleep: AsyncSleep | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        config = ClientConfig.resolve(
            token,
            base_url=base_url,
            internal=internal,
            timeout=timeout,
            rate_limit=rate_limit,
            max_retries=max_retries,
            clock=clock,
            limiter=limiter,
        )
        self._config = config
        self._transport = transport
        self._sleep: AsyncSleep = sleep or asyncio.sleep
        self._http_client: httpx.AsyncClient | None = None

    @classmethod
    def from_config(
        cls, config: ClientConfig, *, transport: object = None, sleep: AsyncSleep | None = None
    ) -> Self:
        """A client with settings another client resolved; see :meth:`FlyClient.from_config`.

        Raises:
            ConfigurationError: the transport cannot serve async requests.
        """
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigurationError(
                "The sync client's transport cannot serve async requests.",
                advice="Create AsyncFlyClient(transport=...) with an async transport.",
            )
        return cls(**config.arguments(), transport=transport, sleep=sleep)

    @property
    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The httpx transport given to the client (``None``: httpx's own)."""
        return self._transport

    @property
    def sleep(self) -> AsyncSleep:
        """How the client sleeps between retries and while paced."""
        return self._sleep

    async def _http(self) -> httpx.AsyncClient:
        # Made on first use: building it loads TLS certificates, which a toolkit that
        # is only constructed (or only refuses calls) never needs. That is file I/O, so
        # it happens in a worker thread, never on the event loop.
        if self._http_client is None:
            client = await asyncio.to_thread(self._new_http)
            if self._http_client is None:
                self._http_client = client
        return self._http_client

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport, **self._config.httpx_options())

    async def call(
        self, endpoint_or_name: Endpoint | str, args: FlyArgs | Mapping[str, Any]
    ) -> Any:
        """Call one endpoint; see :meth:`fly_tools.client.FlyClient.call`."""
        endpoint = core.resolve_endpoint(endpoint_or_name)
        validated = core.validate_args(endpoint, args)
        return await self._run(flows.call_flow(endpoint, validated, self._config.clock, self.token))

    async def wait(
        self,
        app_name: str,
        machine_id: str,
        state: str | list[str] = "started",
        timeout: int = 60,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Wait until the machine reaches ``state``; see :meth:`FlyClient.wait`."""
        args = flows.wait_arguments(app_name, machine_id, state, timeout, version)
        return flows.as_dict(await self.call("fly_wait_machine", args))

    async def current_token(self) -> dict[str, Any]:
        """What Fly says about this client's token (``GET /tokens/current``).

        :func:`~fly_tools.client.tokens.scope_from_current_token` maps it to a scope.
        """
        return flows.as_dict(await self._run(tokens.current_token_flow()))

    async def authorize(self, access: Mapping[str, Any]) -> dict[str, Any]:
        """Whether this client's token grants ``access`` (``POST /tokens/authorize``).

        Args:
            access: Fly's ``TokenAccess``, e.g. ``{"action": 2, "org_slug": "acme"}``.

        Raises:
            FlyAPIError: Fly refused the access (or the request).
        """
        header = authorization_header(self._config.token)
        return flows.as_dict(await self._run(tokens.authorize_flow(header, access)))

    async def _run(self, flow: flows.Flow) -> Any:
        outcome: Any = None
        failure: FlyError | None = None
        while True:
            try:
                step = flows.drive_step(flow, outcome, failure)
            except StopIteration as done:
                return done.value
            outcome, failure = None, None
            try:
                outcome = await self._perform(step)
            except FlyError as exc:
                failure = exc

    async def _perform(self, step: core.RequestPlan | flows.Pause) -> Any:
        if isinstance(step, flows.Pause):
            await self._sleep(step.seconds)
            return None
        attempts = core.Attempts(step, started=self._config.clock(), timeout=self._config.timeout)
        try:
            return await self._send(attempts)
        except FlyError as first:
            if not core.should_retry(step.endpoint, first, self._config.max_retries):
                raise
            return await self._retry(attempts, first)

    async def _retry(self, attempts: core.Attempts, first: FlyError) -> Any:
        # Built only when a retry is due; replays the first failure as its attempt 1
        # (see FlyClient._retry).
        replay = [first]

        async def attempt() -> Any:
            if replay:
                raise replay.pop()
            return await self._send(attempts)

        from fly_tools.client.retrying import retry_async  # tenacity loads with the first retry

        config = self._config
        return await retry_async(attempt, attempts, config.max_retries, config.clock, self._sleep)

    async def _send(self, attempts: core.Attempts) -> Any:
        plan = attempts.plan
        await apace(self._config.limiter, plan.rate_key, plan.endpoint.rate_class, self._sleep)
        try:
            response = await (await self._http()).request(
                **core.httpx_options(plan, self._config.timeout)
            )
        except httpx.TransportError as exc:
            failure = core.connection_error(plan, exc, timeout=self._config.timeout)
            raise attempts.failed(failure) from exc
        except httpx.InvalidURL as exc:
            raise core.unsendable(plan, exc) from None
        return attempts.answered(response, core.parse_response)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._http_client is not None:
            await self._http_client.aclose()

    async def __aenter__(self) -> AsyncFlyClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
