"""The ledger driven by hypothesis: interleaved ask, answer, expire, spend, replay and races.

Whatever the order, on every backend and across two handles (two processes): a question
is spent at most once, only by the caller who asked, only for the request it was about,
only after a signed approval, never after it expired or was rejected.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from fly_tools.approvals import Approval, ApprovalError
from fly_tools.approvals.entries import APPROVED_TTL
from fly_tools.approvals.hook import answer_signed
from fly_tools.approvals.ledger import Asker, MemoryApprovalStore, spend_answer
from fly_tools.approvals.redis_store import RedisApprovalStore
from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from tests.approvals.conftest import Clock

APPROVER = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()
KEYS = (APPROVER.public_key(),)
ASKERS = [
    Asker(token=t, host="https://api.machines.dev", agent=a)
    for t in ("tA", "tB")
    for a in ("ops-bot", "rogue-bot")
]
BINDINGS = ["digest-1", "digest-2"]
PENDING = 600.0


@dataclass
class Model:
    """What the test knows about one question, independently of the ledger."""

    asker: Asker
    binding: str
    expires_at: float
    answer: str | None = None  # approved | rejected
    signed_by_approver: bool = False
    answer_expires: float = 0.0
    spent: bool = False


class LedgerMachine(RuleBasedStateMachine):
    """One backend; ``handles`` are two connections to it, as two processes have."""

    backend = "memory"
    questions = Bundle("questions")

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.model: dict[str, Model] = {}
        self.spends: list[str] = []
        self.count = 0

    @initialize()
    def open(self) -> None:
        self.handles = handles(self.backend, self.clock)

    @rule(
        target=questions,
        asker=st.sampled_from(ASKERS),
        binding=st.sampled_from(BINDINGS),
        handle=st.integers(0, 1),
    )
    def ask(self, asker: Asker, binding: str, handle: int) -> Any:
        self.count += 1
        now = self.clock()
        question = Approval(
            id=f"q{self.count}",
            tool="fly_delete_volume",
            args={},
            description="Delete it.",
            target={"kind": "volume", "app": "web", "id": binding},
            binding=binding,
            created_at=now + self.count * 1e-6,
            expires_at=now + PENDING,
            asker=asker.to_dict(),
        )
        stored = self.handles[handle].add(question)
        if stored.id != question.id:  # the pending question it repeats
            assert stored.id in self.model
            return multiple()
        self.model[stored.id] = Model(asker, binding, now + PENDING)
        return stored.id

    @rule(
        qid=questions,
        decision=st.sampled_from(["approved", "approved", "rejected"]),
        signer=st.sampled_from(["approver", "approver", "approver", "stranger", "unsigned"]),
        handle=st.integers(0, 1),
    )
    def answer(self, qid: str, decision: str, signer: str, handle: int) -> None:
        store, known, now = self.handles[handle], self.model[qid], self.clock()
        may = known.answer is None and not known.spent and now < known.expires_at
        try:
            if signer == "unsigned":
                store.answer(qid, decision, "mallory", None)
            else:
                key = APPROVER if signer == "approver" else STRANGER
                answer_signed(store, key, qid, decision, "alice")  # type: ignore[arg-type]
        except ApprovalError:
            assert not may, f"a pending question {qid} could not be answered"
            return
        assert may, f"question {qid} was answered twice or after it expired"
        known.answer, known.answer_expires = decision, now + APPROVED_TTL
        known.signed_by_approver = signer == "approver"

    @rule(seconds=st.sampled_from([1.0, 1.0, 120.0, PENDING, APPROVED_TTL + 1]))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(
        qid=questions,
        asker=st.sampled_from(ASKERS),
        binding=st.sampled_from(BINDINGS),
        handle=st.integers(0, 1),
    )
    def spend(self, qid: str, asker: Asker, binding: str, handle: int) -> None:
        self._spend_once(qid, asker, binding, self.handles[handle])

    @rule(qid=questions)
    def replay(self, qid: str) -> None:
        """The asker tries again with exactly what was asked: after one spend, nothing."""
        known = self.model[qid]
        self._spend_once(qid, known.asker, known.binding, self.handles[1])

    @precondition(lambda self: self.backend != "memory")
    @rule(qid=consumes(questions))
    def race(self, qid: str) -> None:
        """Two processes spend the same answer at the same moment."""
        known, barrier, won = self.model[qid], threading.Barrier(2), []
        before = known.spent

        def go(store: Any) -> None:
            barrier.wait()
            won.append(spend_answer(store, qid, known.asker, known.binding, KEYS, per_call=False))

        threads = [threading.Thread(target=go, args=(h,)) for h in self.handles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        wins = [w for w in won if w is None]
        assert len(wins) <= 1, "two processes spent one answer"
        if wins:
            self._check_spend(qid, known.asker, known.binding, before)

    def _spend_once(self, qid: str, asker: Asker, binding: str, store: Any) -> None:
        before = self.model[qid].spent
        if spend_answer(store, qid, asker, binding, KEYS, per_call=False) is None:
            self._check_spend(qid, asker, binding, before)

    def _check_spend(self, qid: str, asker: Asker, binding: str, was_spent: bool) -> None:
        known = self.model[qid]
        assert not was_spent, f"{qid} spent twice"
        assert asker == known.asker, f"{qid} spent by another asker"
        assert binding == known.binding, f"{qid} spent for another request"
        assert known.answer == "approved", f"{qid} spent with answer {known.answer}"
        assert known.signed_by_approver, f"{qid} spent without the approver's signature"
        assert self.clock() < known.answer_expires, f"{qid} spent after it expired"
        known.spent = True
        self.spends.append(qid)

    @invariant()
    def at_most_one_spend_each(self) -> None:
        assert len(self.spends) == len(set(self.spends))
        if not hasattr(self, "handles"):
            return
        for qid, known in self.model.items():
            stored = self.handles[0].get(qid)
            assert stored is not None
            assert (stored.status == "spent") == known.spent


def handles(backend: str, clock: Clock) -> list[Any]:
    if backend == "memory":
        store = MemoryApprovalStore(clock=clock)
        return [store, store]
    if backend == "sqlite":
        path = Path(tempfile.mkdtemp()) / "ledger.db"
        return [SqliteApprovalStore(path, clock=clock), SqliteApprovalStore(path, clock=clock)]
    server = fakeredis.FakeServer()
    return [
        RedisApprovalStore(fakeredis.FakeRedis(server=server), clock=clock),
        RedisApprovalStore(fakeredis.FakeRedis(server=server), clock=clock),
    ]


SETTINGS = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SqliteLedgerMachine(LedgerMachine):
    backend = "sqlite"


class RedisLedgerMachine(LedgerMachine):
    backend = "redis"


@pytest.mark.parametrize("machine", [LedgerMachine, SqliteLedgerMachine, RedisLedgerMachine])
def test_the_ledger_spends_each_answer_at_most_once_by_its_asker(machine: type) -> None:
    # memory is cheap: more runs there; the file and Redis runs add the second handle's races
    examples = 200 if machine is LedgerMachine else 40
    run_state_machine_as_test(machine, settings=settings(SETTINGS, max_examples=examples))


def test_the_memory_ledger_is_bounded_and_forgets_closed_questions_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fly_tools.approvals.ledger as ledger_module

    monkeypatch.setattr(ledger_module, "MAX_IN_MEMORY", 5)
    clock = Clock()
    store = MemoryApprovalStore(clock=clock)
    asker = ASKERS[0]

    def question(n: int) -> Approval:
        return Approval(
            id=f"q{n}",
            tool="t",
            args={},
            description="d",
            target={"id": str(n)},
            binding=f"b{n}",
            created_at=clock() + n,
            expires_at=clock() + 600,
            asker=asker.to_dict(),
        )

    store.add(question(0))
    answer_signed(store, APPROVER, "q0", "approved", "alice")
    assert spend_answer(store, "q0", asker, "b0", KEYS, per_call=False) is None
    for n in range(1, 7):
        store.add(question(n))
    assert store.get("q0") is None  # the spent one went first
    assert len(store.entries()) == 5
    # forgotten means refused, not spendable
    assert spend_answer(store, "q0", asker, "b0", KEYS, per_call=False) is not None
