"""AsyncFlyClient: the asyncio Fly Machines API client (I/O only; decisions live in core)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
import tenacity

from fly_tools.catalogue import Endpoint
from fly_tools.client import core, flows
from fly_tools.client.errors import ConfigurationError, FlyError
from fly_tools.client.limiter import RateLimiter
from fly_tools.client.settings import ClientConfig, ConfiguredClient
from fly_tools.models.args import FlyArgs

if TYPE_CHECKING:
    from fly_tools.client.sync import FlyClient

AsyncSleep = Callable[[float], Awaitable[None]]


class AsyncFlyClient(ConfiguredClient):
    """The awaitable twin of :class:`~fly_tools.client.FlyClient`: same arguments and methods.

    ``sleep`` is an async callable (default :func:`asyncio.sleep`). Use ``await
    client.call(...)``, ``await client.aclose()`` or ``async with AsyncFlyClient() as client``.

    Raises:
        ConfigurationError: no token, or a malformed token or base URL.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        internal: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        rate_limit: bool | RateLimiter = True,
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
        )
        self._setup(config, transport, sleep)

    def _setup(
        self,
        config: ClientConfig,
        transport: httpx.AsyncBaseTransport | None,
        sleep: AsyncSleep | None,
    ) -> None:
        self._config = config
        self._transport = transport
        self._sleep: AsyncSleep = sleep or asyncio.sleep
        self._http_client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        # Made on first use: building it loads TLS certificates, which a toolkit that
        # is only constructed (or only refuses calls) never needs.
        if self._http_client is None:
            self._http_client = httpx.AsyncClient(
                transport=self._transport, **self._config.httpx_options()
            )
        return self._http_client

    @classmethod
    def _with_config(
        cls, config: ClientConfig, transport: object, sleep: AsyncSleep | None
    ) -> AsyncFlyClient:
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigurationError(
                "The sync client's transport cannot serve async requests.",
                advice="Create AsyncFlyClient(transport=...) with an async transport.",
            )
        client = cls.__new__(cls)
        client._setup(config, transport, sleep)
        return client

    async def call(
        self, endpoint_or_name: Endpoint | str, args: FlyArgs | Mapping[str, Any]
    ) -> Any:
        """Call one endpoint; see :meth:`fly_tools.client.FlyClient.call`."""
        endpoint = core.resolve_endpoint(endpoint_or_name)
        validated = core.validate_args(endpoint, args)
        return await self._run(flows.call_flow(endpoint, validated, self._config.clock))

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

    def to_sync(self, *, sleep: Callable[[float], None] | None = None) -> FlyClient:
        """A blocking client sharing this one's token, base URL, transport and rate limiter.

        Args:
            sleep: sleep for the new client (default :func:`time.sleep`).
        """
        from fly_tools.client.sync import FlyClient

        return FlyClient._with_config(self._config, self._transport, sleep)

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
        options = core.retry_options(step.endpoint, self._config.max_retries)
        return await tenacity.AsyncRetrying(sleep=self._sleep, **options)(self._send, step)

    async def _send(self, plan: core.RequestPlan) -> Any:
        delay = core.throttle(self._config.limiter, plan)
        if delay > 0:
            await self._sleep(delay)
        try:
            response = await self._http.request(**core.httpx_options(plan, self._config.timeout))
        except httpx.TransportError as exc:
            raise core.connection_error(plan, exc) from exc
        except httpx.InvalidURL as exc:
            raise core.unsendable(plan, exc) from None
        return core.parse_response(plan, response)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._http_client is not None:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncFlyClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
