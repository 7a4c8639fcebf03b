"""Fixtures for the approvals tests: both stores on a virtual clock, a toolkit on the fake."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fakeredis
import pytest

from fly_tools.approvals import Approval, ApprovalStore, StoreApproval
from fly_tools.approvals.hook import answer_signed
from fly_tools.approvals.redis_store import RedisApprovalStore
from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from fly_tools.guards import AuditLog, AuditRecord, MemorySink
from fly_tools.testing import FakeFly
from fly_tools.testing.world import VOL_DATA_OLD
from fly_tools.toolkit import FlyToolkit
from tests.approver import APPROVER, APPROVER_KEY, install_approver

START = 1_800_000_000.0
DELETE_OLD = {"app_name": "web", "volume_id": VOL_DATA_OLD}
"""A destructive call on the demo world: delete an unattached volume."""


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def approver_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every approvals test has an approver key (see :mod:`tests.approver`)."""
    return install_approver(tmp_path_factory, monkeypatch)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[ApprovalStore]:
    """Each backend in turn: a SQLite file, and Redis (fakeredis)."""
    if request.param == "sqlite":
        yield SqliteApprovalStore(tmp_path / "approvals.db", clock=clock)
        return
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server)
    yield RedisApprovalStore(client, location="fakeredis", clock=clock)
    client.close()


def reopened(store: ApprovalStore) -> ApprovalStore:
    """A second handle on the same store, as another process would open it."""
    if isinstance(store, SqliteApprovalStore):
        return SqliteApprovalStore(store.path, clock=store.clock)
    assert isinstance(store, RedisApprovalStore)
    connection = store._redis.connection_pool.connection_kwargs  # the fakeredis server
    client = fakeredis.FakeRedis(server=connection["server"])
    return RedisApprovalStore(client, location=store.location, clock=store.clock)


@dataclass
class Agent:
    """A toolkit on the demo world whose gated calls go to ``StoreApproval(store)``."""

    fake: FakeFly
    toolkit: FlyToolkit
    memory: MemorySink
    hook: StoreApproval
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> list[AuditRecord]:
        return self.memory.records

    def deletes(self) -> list[str]:
        """The DELETE requests that reached the fake."""
        return [r.path for r in self.fake.requests if r.method == "DELETE"]


def agent_on(store: ApprovalStore, fake: FakeFly | None = None, **options: Any) -> Agent:
    """A fresh toolkit (as in a new process) on ``fake`` with a store-backed approver."""
    fake = fake or FakeFly.demo()
    memory = MemorySink()
    hook = StoreApproval(store, approvers=options.pop("approvers", APPROVER))
    toolkit = FlyToolkit(
        client=fake.client("org"), scope="org", confirm=hook, audit=AuditLog(memory), **options
    )
    return Agent(fake, toolkit, memory, hook)


@pytest.fixture
def agent(store: ApprovalStore) -> Agent:
    return agent_on(store)


def approve(
    store: ApprovalStore, approval_id: str, by: str = "alice", reason: str | None = None
) -> Approval:
    """A person approves, signing with the approver key (as ``fly-tools approvals approve``)."""
    return answer_signed(store, APPROVER_KEY, approval_id, "approved", by, reason)
