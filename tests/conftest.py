"""Fixtures shared across test folders."""

pytest_plugins = ["tests.redis_loopback"]
