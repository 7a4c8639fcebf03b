"""Fixtures for the command-line tests: the fake `fly-tools call` talks to, no Fly environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fly_tools import cli
from fly_tools.cli import options
from fly_tools.testing import FakeFly

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeFly:
    """The fake that `fly-tools call` talks to, kept so tests can look at it afterwards."""
    world = FakeFly.demo()
    made: list[dict[str, Any]] = []

    def client(scope: str, app: str | None, **extra: Any) -> Any:
        made.append({"scope": scope, "app": app, **extra})
        return world.client(scope, app)

    monkeypatch.setattr(options, "_fake_client", client)
    world.clients_made = made  # type: ignore[attr-defined]
    return world


@pytest.fixture(autouse=True)
def no_fly_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "FLY_API_TOKEN",
        "FLY_ACCESS_TOKEN",
        "FLY_API_HOSTNAME",
        "FLY_FLAPS_BASE_URL",
        "FLY_TOOLS_LIMITER_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*argv)``: the exit status, stdout and stderr of ``fly-tools argv``."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        status = cli.main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke
