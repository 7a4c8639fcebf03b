"""Where the client's token and base URL come from, and the headers they become."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Self

import httpx

from fly_tools._version import __version__
from fly_tools.client.errors import CREDENTIALS_HINT, ConfigurationError
from fly_tools.client.limiters import Limiter, resolve_limiter

TOKEN_ENV_VARS = ("FLY_API_TOKEN", "FLY_ACCESS_TOKEN")
"""Read in this order when no token is passed (``FLY_API_TOKEN`` is the documented one)."""
BASE_URL_ENV_VARS = ("FLY_API_HOSTNAME", "FLY_FLAPS_BASE_URL")
"""Read in this order when no base URL is passed (the docs' name, then fly-go's)."""
PUBLIC_BASE_URL = "https://api.machines.dev"
INTERNAL_BASE_URL = "http://_api.internal:4280"
MACAROON_PREFIXES = ("fm1r_", "fm1a_", "fm2_")
API_VERSION_PATH = "/v1"
TIMEOUT_ENV = "FLY_TOOLS_TIMEOUT"
"""Seconds each request may take, when no ``timeout`` is passed (the CLI's ``--timeout``)."""
DEFAULT_TIMEOUT = 30.0
"""Seconds each request may take when neither ``timeout`` nor :data:`TIMEOUT_ENV` says."""
CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection at most (less when the request timeout is shorter): a host
that does not accept in that time is not going to."""
DEADLINE_FACTOR = 3.0
"""A request that gets no answer is retried until its tries have taken this many times its
timeout (``FLY_TOOLS_TIMEOUT=2``: about 6 s in all, not minutes)."""

_SCHEME_PREFIX = re.compile(r"^(?:bearer|flyv1)\s+", re.IGNORECASE)
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # visible ASCII: anything else breaks the header


class SecretToken:
    """Holds the API token so that printing, logging or raising never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The token itself; only for building the Authorization header."""
        return self._value

    def __repr__(self) -> str:
        return "SecretToken('**********')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretToken cannot be pickled: it would write the token out")


def resolve_token(token: str | SecretToken | None, env: Mapping[str, str]) -> SecretToken:
    """The token passed in, else the first non-empty of :data:`TOKEN_ENV_VARS`.

    Raises:
        ConfigurationError: no token anywhere, or a token that cannot go in a header.
    """
    if isinstance(token, SecretToken):
        return token
    if token is None:
        token = next((env[name] for name in TOKEN_ENV_VARS if env.get(name, "").strip()), None)
    if token is None or not token.strip():
        raise ConfigurationError(
            "No Fly API token: none was passed and FLY_API_TOKEN and FLY_ACCESS_TOKEN are unset.",
            advice=f"Pass token=..., or {CREDENTIALS_HINT}.",
        )
    parts = [_SCHEME_PREFIX.sub("", part.strip()) for part in token.split(",") if part.strip()]
    if not all(_TOKEN_CHARS.fullmatch(part) for part in parts):
        raise ConfigurationError(
            "The Fly API token contains spaces, control or non-ASCII characters.",
            advice="Paste it exactly as `fly tokens create` printed it.",
        )
    return SecretToken(",".join(parts))


def authorization_header(token: SecretToken) -> str:
    """``FlyV1 <macaroons>`` when the token holds macaroons, else ``Bearer <token>``.

    Like fly-go, only the macaroons are sent when a comma-joined list mixes kinds.
    """
    parts = token.reveal().split(",")
    macaroons = [part for part in parts if part.startswith(MACAROON_PREFIXES)]
    if macaroons:
        return "FlyV1 " + ",".join(macaroons)
    return "Bearer " + token.reveal()


def resolve_base_url(base_url: str | None, *, internal: bool, env: Mapping[str, str]) -> str:
    """The Machines API root, ending in ``/v1`` exactly once.

    Order: ``base_url``; ``internal=True`` (Fly's private network); the first set
    :data:`BASE_URL_ENV_VARS`; the public API.

    Raises:
        ConfigurationError: both ``base_url`` and ``internal`` given, or a malformed URL.
    """
    if base_url is not None and internal:
        raise ConfigurationError(
            "Both base_url and internal=True were given.",
            advice="Pass one: internal=True means http://_api.internal:4280.",
        )
    source = "base_url"
    if base_url is None and internal:
        base_url, source = INTERNAL_BASE_URL, "internal"
    if base_url is None:
        found = [(name, env[name]) for name in BASE_URL_ENV_VARS if env.get(name, "").strip()]
        source, base_url = found[0] if found else ("default", PUBLIC_BASE_URL)
    return _with_api_version(base_url.strip(), source)


def _with_api_version(raw: str, source: str) -> str:
    def reject(problem: str) -> NoReturn:
        # The URL itself is not echoed: a pasted URL may carry credentials.
        raise ConfigurationError(
            f"The Fly API base URL from {source} {problem}.",
            advice="Use a URL like https://api.machines.dev or http://_api.internal:4280.",
        )

    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL:
        reject("is not a valid URL")
    if url.scheme not in ("http", "https") or not url.host:
        reject("must start with http:// or https:// and name a host")
    if url.userinfo or url.query or url.fragment:
        reject("must not contain credentials, a query or a fragment")
    path = url.path.rstrip("/")
    if not path.endswith(API_VERSION_PATH):
        path += API_VERSION_PATH
    return str(url.copy_with(path=path))


def resolve_timeout(timeout: float | None, env: Mapping[str, str]) -> float:
    """``timeout`` if given, else :data:`TIMEOUT_ENV`, else :data:`DEFAULT_TIMEOUT`.

    Raises:
        ConfigurationError: a timeout that is not a positive number of seconds.
    """
    source, value = "timeout", timeout
    if value is None and env.get(TIMEOUT_ENV, "").strip():
        source = TIMEOUT_ENV
        try:
            value = float(env[TIMEOUT_ENV])
        except ValueError:
            value = -1.0
    value = DEFAULT_TIMEOUT if value is None else value
    if not 0 < value < float("inf"):
        raise ConfigurationError(
            f"{source} must be a positive number of seconds.",
            advice=f"Use e.g. {TIMEOUT_ENV}=10 (seconds each request may take).",
        )
    return float(value)


def user_agent() -> str:
    """``fly-tools/<version>``: no file I/O, so it is safe on an event loop."""
    return f"fly-tools/{__version__}"


def default_headers(token: SecretToken) -> dict[str, str]:
    """Headers sent with every request."""
    return {
        "Authorization": authorization_header(token),
        "User-Agent": user_agent(),
    }


@dataclass(frozen=True, repr=False)
class ClientConfig:
    """Everything a sync or async client is set up with, resolved once and shareable.

    Attributes:
        token: the API token, in its holder.
        base_url: the API root, ending in ``/v1``.
        timeout: seconds each request may take (reading, writing, waiting for a pooled
            connection); opening a connection takes at most :data:`CONNECT_TIMEOUT`.
        max_retries: retries of a failed request when retrying is safe.
        limiter: the rate limiter (in-process or shared), or ``None`` when pacing is off.
        clock: monotonic clock for wait deadlines.
    """

    token: SecretToken
    base_url: str
    timeout: float
    max_retries: int
    limiter: Limiter | None
    clock: Callable[[], float]

    @classmethod
    def resolve(
        cls,
        token: str | SecretToken | None,
        *,
        base_url: str | None,
        internal: bool,
        timeout: float | None,
        rate_limit: bool | Limiter,
        max_retries: int,
        clock: Callable[[], float] | None,
        limiter: Limiter | str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Resolve the client's arguments against the environment (``os.environ``)."""
        env = os.environ if env is None else env
        if max_retries < 0:
            raise ConfigurationError(
                "max_retries must be >= 0.", advice="Use max_retries=0 to turn retries off."
            )
        clock = clock or time.monotonic
        return cls(
            token=resolve_token(token, env),
            base_url=resolve_base_url(base_url, internal=internal, env=env),
            timeout=resolve_timeout(timeout, env),
            max_retries=max_retries,
            limiter=resolve_limiter(limiter, rate_limit=rate_limit, clock=clock, env=env),
            clock=clock,
        )

    def arguments(self) -> dict[str, Any]:
        """The client arguments that resolve to these settings again, the environment unread
        (every setting is given): how a client is built from settings another one holds."""
        return {
            "token": self.token,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "rate_limit": self.limiter if self.limiter is not None else False,
            "max_retries": self.max_retries,
            "clock": self.clock,
        }

    def httpx_options(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient`` (add ``transport``)."""
        return {
            "base_url": self.base_url,
            "headers": default_headers(self.token),
            "timeout": httpx.Timeout(self.timeout, connect=min(CONNECT_TIMEOUT, self.timeout)),
        }

    def __repr__(self) -> str:
        return f"ClientConfig(base_url={self.base_url!r})"


class ConfiguredClient:
    """What the sync and async clients share: their settings, token holder and base URL."""

    _config: ClientConfig

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """A client configured from the environment; keyword arguments override it."""
        return cls(**overrides)

    @property
    def config(self) -> ClientConfig:
        """The settings, resolved once: a twin or a narrowed copy of the client shares them."""
        return self._config

    @property
    def token(self) -> SecretToken:
        """The API token in its holder: ``repr`` and ``str`` never show it."""
        return self._config.token

    @property
    def base_url(self) -> str:
        """The API root, ending in ``/v1``."""
        return self._config.base_url

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the client keeps deadlines on (the fake's, for a client made by it)."""
        return self._config.clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"
