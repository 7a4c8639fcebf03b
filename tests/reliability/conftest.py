"""Reliability suite fixtures: demo fakes, toolkits on virtual time, the session-wide leak scan.

Every test in this folder runs under one ``LeakScan``: log records of every level,
captured stdout/stderr and whatever a test hands it (tool content, audit files,
exception text) are kept, and when the session ends none may contain a token or a
secret value of any fake the suite created.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from fly_tools import FlyToolkit, approve_all
from fly_tools.testing import FakeFly
from tests.reliability.support import LeakScan, ToolkitFactory

WATCHED_LOGGERS = {"fly_tools": logging.DEBUG, "httpx": logging.DEBUG, "uvicorn": logging.INFO}


@pytest.fixture(scope="session", autouse=True)
def leak_scan() -> Iterator[LeakScan]:
    """The session-wide scan; fails the session's end if anything leaked."""
    scan = LeakScan()
    yield scan
    assert scan.leaks() == [], "a token or secret value leaked"


@pytest.fixture(autouse=True)
def _watch_everything(capsys: pytest.CaptureFixture[str], leak_scan: LeakScan) -> Iterator[None]:
    # Only while a reliability test runs: other suites keep their own log levels.
    root = logging.getLogger()
    previous = {name: logging.getLogger(name).level for name in WATCHED_LOGGERS}
    root.addHandler(leak_scan)
    for name, level in WATCHED_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    yield
    root.removeHandler(leak_scan)
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)
    out, err = capsys.readouterr()
    leak_scan.add("stdout", out)
    leak_scan.add("stderr", err)
    print(out, end="")  # back into pytest's capture, for the report of a failure


@pytest.fixture
def fly(leak_scan: LeakScan) -> FakeFly:
    """The demo world on a virtual clock; its tokens and secrets are watched."""
    return leak_scan.watch(FakeFly.demo())


@pytest.fixture
def toolkit_for() -> ToolkitFactory:
    """``toolkit_for(fake, scope="org", **toolkit_options)``: a toolkit on virtual time.

    Approval is automatic (the suite tests transport and input, not people).
    """

    def build(fake: FakeFly, scope: str = "org", **options: Any) -> FlyToolkit:
        client_options = options.pop("client_options", {})
        client = fake.client(scope, sleep=fake.clock.sleep, clock=fake.clock.now, **client_options)
        options.setdefault("confirm", approve_all)
        return FlyToolkit(client=client, scope=scope, **options)

    return build
