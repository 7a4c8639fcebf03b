"""A real redis-server on loopback for the tests that need one (skipped where it is missing).

Use ``REDIS_MARKS`` as a module's ``pytestmark``; the fixtures ``loopback_redis`` (one
server per test module) and ``loopback_redis_url`` (one key prefix per test) are
registered for every test by ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks import redis_server

PASSWORD = "s3cret-redis-pass"
REDIS_MARKS = [
    pytest.mark.enable_socket,
    pytest.mark.loopback,
    pytest.mark.skipif(
        not redis_server.available(),
        reason="redis-server is not on PATH (.ci/run installs it: apt-get install redis-server)",
    ),
]


@pytest.fixture(scope="module")
def loopback_redis() -> Iterator[redis_server.RedisServer]:
    """A password-protected redis-server on a free loopback port, for one test module."""
    with redis_server.RedisServer(password=PASSWORD) as running:
        yield running


@pytest.fixture
def loopback_redis_url(
    loopback_redis: redis_server.RedisServer, request: pytest.FixtureRequest
) -> str:
    """The server's URL with a key prefix of this test's own."""
    return f"{loopback_redis.url}?prefix={request.node.name}"
