"""The Redis store against a real redis-server on loopback (skipped when it is not installed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from benchmarks import redis_server
from fly_tools.approvals import Approval, ApprovalError, open_store
from fly_tools.approvals.redis_store import RedisApprovalStore
from fly_tools.tools.runtime import FlyToolError
from tests.approvals.conftest import DELETE_OLD, agent_on

pytestmark = [
    pytest.mark.enable_socket,
    pytest.mark.loopback,
    pytest.mark.skipif(
        not redis_server.available(),
        reason="redis-server is not on PATH (.ci/run installs it: apt-get install redis-server)",
    ),
]
PASSWORD = "approvals-redis-pass"


@pytest.fixture(scope="module")
def server() -> Iterator[redis_server.RedisServer]:
    with redis_server.RedisServer(password=PASSWORD) as running:
        yield running


@pytest.fixture
def url(server: redis_server.RedisServer, request: pytest.FixtureRequest) -> str:
    return f"{server.url}?prefix={request.node.name}"


def waiting(binding: str) -> Approval:
    return Approval(
        id=f"id-{binding}", tool="fly_delete_volume", args={}, description="Delete it.",
        target={"kind": "volume", "app": "web", "id": "vol_1"}, binding=binding,
        created_at=1.0, expires_at=4_000_000_000.0,
    )  # fmt: skip


def test_many_threads_racing_consume_one_approval_once(url: str) -> None:
    store = open_store(url)
    store.add(waiting("b"))
    store.answer("id-b", "approved", "alice", None)
    handles = [open_store(url) for _ in range(8)]
    barrier, won = threading.Barrier(len(handles)), []

    def race(handle: RedisApprovalStore) -> None:
        barrier.wait()
        won.append(handle.consume("id-b"))

    threads = [threading.Thread(target=race, args=(h,)) for h in handles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(won) == [False] * 7 + [True]
    assert store.get("id-b").status == "consumed"  # type: ignore[union-attr]


def test_the_hook_over_real_redis_sends_one_delete_after_approval(url: str) -> None:
    agent = agent_on(open_store(url))
    with pytest.raises(FlyToolError, match="pending approval"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    (asked,) = open_store(url).entries()
    open_store(url).answer(asked.id, "approved", "alice", None)
    later = agent_on(open_store(url), fake=agent.fake)  # a new process, the same Fly
    later.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert later.deletes() == [f"/v1/apps/web/volumes/{DELETE_OLD['volume_id']}"]


def test_a_wrong_password_is_an_approval_error_that_hides_it(
    server: redis_server.RedisServer,
) -> None:
    store = open_store(f"redis://:wrong-guess-pw@127.0.0.1:{server.port}/0")
    with pytest.raises(ApprovalError, match="unreachable") as caught:
        store.binding_key()
    assert "wrong-guess-pw" not in str(caught.value)


def test_an_unreachable_redis_refuses_the_call_and_sends_nothing(
    server: redis_server.RedisServer,
) -> None:
    agent = agent_on(open_store("redis://:some-pass-word@127.0.0.1:1/0"))
    with pytest.raises(FlyToolError, match=r"rejected by approvals store.*unreachable") as caught:
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert "some-pass-word" not in str(caught.value)
    assert caught.value.artifact["executed"] is False
    assert agent.deletes() == []
    assert (agent.records[-1].decision, agent.records[-1].decided_by) == (
        "rejected", "approvals store")  # fmt: skip
