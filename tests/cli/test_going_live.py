"""Going live as a new user would: each failure's first line names its cause, a server that
never answers costs seconds not minutes, and the exit status says when calls failed.

Servers here are loopback sockets (one that accepts and never answers, a closed port) and
the fake Fly API served over loopback; nothing leaves the machine.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fly_tools.testing import FakeFly
from tests.cli.conftest import Run

BOGUS = "fm2_bogus-token-never-issued"
LOOPBACK = [pytest.mark.enable_socket, pytest.mark.loopback]
pytestmark = LOOPBACK


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback address that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)  # the kernel completes handshakes; nobody ever reads or replies
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def closed_port() -> str:
    """A loopback address where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def live_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point --live at ``base_url`` with ``token``; FLY_TOOLS_TIMEOUT restored afterwards."""
    monkeypatch.setenv("FLY_TOOLS_TIMEOUT", "30")
    monkeypatch.delenv("FLY_TOOLS_TIMEOUT")

    def point(base_url: str, token: str = BOGUS, timeout: str | None = None) -> None:
        monkeypatch.setenv("FLY_API_TOKEN", token)
        monkeypatch.setenv("FLY_API_HOSTNAME", base_url)
        if timeout is not None:
            monkeypatch.setenv("FLY_TOOLS_TIMEOUT", timeout)

    return point


def _first_line(err: str) -> str:
    return err.strip().splitlines()[0]


# ---------------------------------------------------------------- no answer


@pytest.mark.slow
def test_a_server_that_never_answers_fails_within_20_s_with_fly_tools_timeout_2(
    run: Run, live_env: Any, silent_server: str
) -> None:
    live_env(silent_server, timeout="2")
    started = time.monotonic()
    status, _, err = run(
        "call", "fly_list_apps", "--live", "--scope", "org", "--args", '{"org_slug": "acme"}'
    )
    took = time.monotonic() - started
    assert status == 1
    assert took < 20, took
    assert "No answer in 2 s after 2 tries" in _first_line(err)
    assert "Traceback" not in err


@pytest.mark.slow
def test_the_timeout_flag_sets_it_and_scope_detection_names_the_cause(
    run: Run, live_env: Any, silent_server: str
) -> None:
    live_env(silent_server)
    started = time.monotonic()
    status, out, err = run("tools", "--live", "--timeout", "1.5")
    assert time.monotonic() - started < 20
    assert (status, out) == (2, "")
    line = _first_line(err)
    # The cause first, not "give --scope (...)".
    assert line.startswith("fly-tools: No answer in 1.5 s after"), line
    assert "/tokens/current" in line
    assert BOGUS not in err


def test_a_bad_timeout_is_refused_before_any_request(run: Run, live_env: Any) -> None:
    live_env("http://127.0.0.1:9")
    with pytest.raises(SystemExit):
        run("tools", "--live", "--timeout", "0")


# ---------------------------------------------------------------- refused, not found


def test_a_refused_connection_says_so_first(run: Run, live_env: Any, closed_port: str) -> None:
    live_env(closed_port)
    status, _, err = run("tools", "--live")
    line = _first_line(err)
    assert status == 2
    assert line.startswith(
        f"fly-tools: Connection refused: nothing accepts connections at {closed_port[7:]}"
    )
    assert "give --scope" not in line


# ---------------------------------------------------------------- a refused token


@pytest.fixture
def served_fake() -> Iterator[str]:
    """The demo world over loopback HTTP, its base URL."""
    with FakeFly.demo().serve() as base_url:
        yield base_url


def test_a_bad_token_is_named_first(run: Run, live_env: Any, served_fake: str) -> None:
    live_env(served_fake)
    status, _, err = run("tools", "--live")
    assert status == 2
    assert _first_line(err).startswith("fly-tools: Token refused: Fly answered 401")
    status, _, err = run(
        "call", "fly_list_apps", "--live", "--scope", "org", "--args", '{"org_slug": "acme"}'
    )
    assert status == 1
    assert "Token refused" in _first_line(err)
    assert BOGUS not in err


def test_demo_live_with_a_bad_token_exits_non_zero(
    run: Run, live_env: Any, served_fake: str
) -> None:
    live_env(served_fake)
    status, out, err = run("demo", "--live", "--app", "web")
    assert status == 1
    line = _first_line(err)
    # The report stops at the first refusal: a second call would fail the same way.
    assert line.startswith("fly-tools: 1 of 1 calls to Fly failed; the first:")
    assert "Token refused" in line or "401" in line
    assert "Audit trail" in out  # the report is still shown
    assert BOGUS not in out + err


@pytest.mark.slow
def test_demo_live_against_a_silent_server_fails_within_20_s(
    run: Run, live_env: Any, silent_server: str
) -> None:
    live_env(silent_server, timeout="2")
    started = time.monotonic()
    status, _, err = run("demo", "--live", "--app", "web")
    assert time.monotonic() - started < 20
    assert status != 0
    assert "No answer in 2 s" in _first_line(err)


def test_demo_live_that_works_exits_zero(
    run: Run, live_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeFly.demo()
    with fake.serve() as base_url:
        live_env(base_url, token=fake.tokens["readonly"])
        status, out, err = run("demo", "--live", "--app", "web")
    assert (status, err) == (0, "")
    assert "2 answered" in out


# ---------------------------------------------------------------- a model that cannot connect


def test_a_real_model_that_cannot_connect_is_one_line(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    class Unreachable(GenericFakeChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("Connection error.\nat a long provider traceback")

    from fly_tools.demo import run as demo_run

    monkeypatch.setenv("FLY_TOOLS_MODEL", "openai:gpt-4o")
    monkeypatch.setattr(demo_run, "load_model", lambda spec: Unreachable(messages=iter([])))
    status, _, err = run("demo", "--yes")
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "FLY_TOOLS_MODEL" in err
    assert "ConnectionError: Connection error." in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- a missing extra


def test_a_redis_limiter_without_the_extra_says_what_to_install(
    run: Run, live_env: Any, closed_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if throttled-py (the redis extra) were not installed.
    for name in [m for m in sys.modules if m == "throttled" or m.startswith("throttled.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "throttled", None)
    live_env(closed_port)
    status, _, err = run(
        "call",
        "fly_list_apps",
        "--live",
        "--scope",
        "org",
        "--args",
        '{"org_slug": "acme"}',
        "--limiter",
        "redis://user:pw@127.0.0.1:1/0",
    )
    assert status == 2
    line = _first_line(err)
    assert "pip install 'fly-tools[redis]'" in line
    assert "No module named" not in err
    assert "pw@" not in err
