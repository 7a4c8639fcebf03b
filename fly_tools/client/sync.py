"""FlyClient: the blocking Fly Machines API client (I/O only; decisions live in core)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from fly_tools.catalogue import Endpoint
from fly_tools.client import core, flows, tokens
from fly_tools.client.errors import ConfigurationError, FlyError
from fly_tools.client.limiters import Limiter, pace
from fly_tools.client.settings import (
    ClientConfig,
    ConfiguredClient,
    SecretToken,
    authorization_header,
)
from fly_tools.models.args import FlyArgs


class FlyClient(ConfiguredClient):
    """Calls the Fly Machines API, one catalogue endpoint at a time.

    Args:
        token: Fly API token; defaults to ``FLY_API_TOKEN``, then ``FLY_ACCESS_TOKEN``.
        base_url: API root; defaults to ``FLY_API_HOSTNAME``, then ``FLY_FLAPS_BASE_URL``,
            then ``https://api.machines.dev``. ``/v1`` is added if missing.
        internal: use Fly's private-network address ``http://_api.internal:4280``.
        transport: httpx transport (e.g. ``httpx.MockTransport`` or the fake Fly API).
        timeout: seconds each request may take; defaults to ``FLY_TOOLS_TIMEOUT``, then 30.
            Opening a connection takes at most 5 s; a request that gets no answer is
            retried (when safe) until its tries took three times this.
        rate_limit: ``True`` paces calls to Fly's limits, ``False`` turns pacing off, or
            pass a :class:`RateLimiter` (e.g. one shared by several clients).
        limiter: how calls are paced: ``"memory"`` (this process, the default), a
            ``redis://`` URL (shared by every process using it, ``fly-tools[redis]``) or
            a limiter object; defaults to ``FLY_TOOLS_LIMITER_URL``. See docs/rate-limits.md.
        max_retries: retries of a failed request when retrying is safe; 0 disables.
        sleep: how to sleep (injectable so tests never really sleep).
        clock: monotonic clock for wait deadlines and the default rate limiter.

    Raises:
        ConfigurationError: no token, or a malformed token or base URL.
    """

    def __init__(
        self,
        token: str | SecretToken | None = None,
        *,
        base_url: str | None = None,
        internal: bool = False,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
        rate_limit: bool | Limiter = True,
        limiter: Limiter | str | None = None,
        max_retries: int = 3,
        sleep: Callable[[float], None] | None = None,
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
        self._sleep = sleep or time.sleep
        self._http_client: httpx.Client | None = None

    @classmethod
    def from_config(
        cls,
        config: ClientConfig,
        *,
        transport: object = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Self:
        """A client with settings another client resolved (see :attr:`config`).

        Args:
            config: the settings, shared as they are (token, base URL, rate limiter...).
            transport: httpx transport for the new client.
            sleep: how the new client sleeps (default :func:`time.sleep`).

        Raises:
            ConfigurationError: the transport cannot serve blocking requests.
        """
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            raise ConfigurationError(
                "The async client's transport cannot serve blocking requests.",
                advice="Create FlyClient(transport=...) with a sync transport.",
            )
        return cls(**config.arguments(), transport=transport, sleep=sleep)

    @property
    def transport(self) -> httpx.BaseTransport | None:
        """The httpx transport given to the client (``None``: httpx's own)."""
        return self._transport

    @property
    def sleep(self) -> Callable[[float], None]:
        """How the client sleeps between retries and while paced."""
        return self._sleep

    @property
    def _http(self) -> httpx.Client:
        # Made on first use: building it loads TLS certificates, which a toolkit that
        # is only constructed (or only refuses calls) never needs.
        if self._http_client is None:
            self._http_client = httpx.Client(
                transport=self._transport, **self._config.httpx_options()
            )
        return self._http_client

    def call(self, endpoint_or_name: Endpoint | str, args: FlyArgs | Mapping[str, Any]) -> Any:
        """Call one endpoint.

        Args:
            endpoint_or_name: a catalogue record or its name, e.g. ``"fly_get_machine"``.
            args: the endpoint's argument model, or a mapping validated against it.

        Returns:
            Parsed JSON (dict or list), ``str`` for text answers, ``None`` for an empty body.

        Raises:
            InvalidArgumentsError: bad arguments; nothing was sent.
            FlyAPIError: Fly answered with an error status (a subclass per status).
            FlyConnectionError: no complete answer from Fly.
        """
        endpoint = core.resolve_endpoint(endpoint_or_name)
        validated = core.validate_args(endpoint, args)
        return self._run(flows.call_flow(endpoint, validated, self._config.clock, self.token))

    def wait(
        self,
        app_name: str,
        machine_id: str,
        state: str | list[str] = "started",
        timeout: int = 60,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Block until the machine reaches ``state``, up to ``timeout`` seconds in total.

        Raises:
            WaitTimeoutError: the state was not reached in time.
        """
        args = flows.wait_arguments(app_name, machine_id, state, timeout, version)
        return flows.as_dict(self.call("fly_wait_machine", args))

    def current_token(self) -> dict[str, Any]:
        """What Fly says about this client's token (``GET /tokens/current``).

        :func:`~fly_tools.client.tokens.scope_from_current_token` maps it to a scope.
        """
        return flows.as_dict(self._run(tokens.current_token_flow()))

    def authorize(self, access: Mapping[str, Any]) -> dict[str, Any]:
        """Whether this client's token grants ``access`` (``POST /tokens/authorize``).

        Args:
            access: Fly's ``TokenAccess``, e.g. ``{"action": 2, "org_slug": "acme"}``.

        Raises:
            FlyAPIError: Fly refused the access (or the request).
        """
        header = authorization_header(self._config.token)
        return flows.as_dict(self._run(tokens.authorize_flow(header, access)))

    def _run(self, flow: flows.Flow) -> Any:
        outcome: Any = None
        failure: FlyError | None = None
        while True:
            try:
                step = flows.drive_step(flow, outcome, failure)
            except StopIteration as done:
                return done.value
            outcome, failure = None, None
            try:
                outcome = self._perform(step)
            except FlyError as exc:
                failure = exc

    def _perform(self, step: core.RequestPlan | flows.Pause) -> Any:
        if isinstance(step, flows.Pause):
            self._sleep(step.seconds)
            return None
        attempts = core.Attempts(step, started=self._config.clock(), timeout=self._config.timeout)
        try:
            return self._send(attempts)
        except FlyError as first:
            if not core.should_retry(step.endpoint, first, self._config.max_retries):
                raise
            return self._retry(attempts, first)

    def _retry(self, attempts: core.Attempts, first: FlyError) -> Any:
        # The retry loop is built only when a retry is due (most calls succeed at once).
        # It replays the first failure as its attempt 1, so waits, the attempt limit and
        # the retry log are the same as if it had made that attempt itself.
        replay = [first]

        def attempt() -> Any:
            if replay:
                raise replay.pop()
            return self._send(attempts)

        from fly_tools.client.retrying import retry_sync  # tenacity loads with the first retry

        config = self._config
        return retry_sync(attempt, attempts, config.max_retries, config.clock, self._sleep)

    def _send(self, attempts: core.Attempts) -> Any:
        plan = attempts.plan
        pace(self._config.limiter, plan.rate_key, plan.endpoint.rate_class, self._sleep)
        try:
            response = self._http.request(**core.httpx_options(plan, self._config.timeout))
        except httpx.TransportError as exc:
            failure = core.connection_error(plan, exc, timeout=self._config.timeout)
            raise attempts.failed(failure) from exc
        except httpx.InvalidURL as exc:
            raise core.unsendable(plan, exc) from None
        return attempts.answered(response, core.parse_response)

    def close(self) -> None:
        """Close the HTTP connections."""
        if self._http_client is not None:
            self._http.close()

    def __enter__(self) -> FlyClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
