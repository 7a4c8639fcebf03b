"""The Redis store against a real redis-server on loopback (skipped when it is not installed)."""

from __future__ import annotations

import threading

import pytest

from benchmarks import redis_server
from fly_tools.approvals import Approval, ApprovalError, open_store
from fly_tools.approvals.redis_store import RedisApprovalStore
from fly_tools.tools.runtime import FlyToolError
from tests.approvals.conftest import DELETE_OLD, agent_on, approve
from tests.redis_loopback import REDIS_MARKS

pytestmark = REDIS_MARKS


def waiting(binding: str) -> Approval:
    return Approval(
        id=f"id-{binding}",
        tool="fly_delete_volume",
        args={},
        description="Delete it.",
        target={"kind": "volume", "app": "web", "id": "vol_1"},
        binding=binding,
        created_at=1.0,
        expires_at=4_000_000_000.0,
    )


def test_many_threads_racing_consume_one_approval_once(loopback_redis_url: str) -> None:
    store = open_store(loopback_redis_url)
    store.add(waiting("b"))
    store.answer("id-b", "approved", "alice", None)
    handles = [open_store(loopback_redis_url) for _ in range(8)]
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
    assert store.get("id-b").status == "spent"  # type: ignore[union-attr]


def test_the_hook_over_real_redis_sends_one_delete_after_approval(loopback_redis_url: str) -> None:
    agent = agent_on(open_store(loopback_redis_url))
    with pytest.raises(FlyToolError, match="pending approval"):
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    (asked,) = open_store(loopback_redis_url).entries()
    approve(open_store(loopback_redis_url), asked.id, "alice")
    later = agent_on(open_store(loopback_redis_url), fake=agent.fake)  # a new process, the same Fly
    later.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert later.deletes() == [f"/v1/apps/web/volumes/{DELETE_OLD['volume_id']}"]


def test_a_wrong_password_is_an_approval_error_that_hides_it(
    loopback_redis: redis_server.RedisServer,
) -> None:
    store = open_store(f"redis://:wrong-guess-pw@127.0.0.1:{loopback_redis.port}/0")
    with pytest.raises(ApprovalError, match="unreachable") as caught:
        store.binding_key()
    assert "wrong-guess-pw" not in str(caught.value)


def test_an_unreachable_redis_refuses_the_call_and_sends_nothing(
    loopback_redis: redis_server.RedisServer,
) -> None:
    agent = agent_on(open_store("redis://:some-pass-word@127.0.0.1:1/0"))
    with pytest.raises(FlyToolError, match=r"rejected by approvals store.*unreachable") as caught:
        agent.toolkit.call("fly_delete_volume", DELETE_OLD)
    assert "some-pass-word" not in str(caught.value)
    assert caught.value.artifact["executed"] is False
    assert agent.deletes() == []
    assert (agent.records[-1].decision, agent.records[-1].decided_by) == (
        "rejected",
        "approvals store",
    )
