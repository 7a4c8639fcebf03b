"""Both stores (SQLite file, Redis on fakeredis): one behaviour, checked on each."""

from __future__ import annotations

from pathlib import Path

import pytest

from fly_tools.approvals import Approval, ApprovalError, ApprovalStore, open_store
from fly_tools.approvals.entries import APPROVED_TTL
from fly_tools.approvals.redis_store import RedisApprovalStore
from fly_tools.approvals.sqlite_store import SqliteApprovalStore
from tests.approvals.conftest import START, Clock, reopened


def question(binding: str = "b1", *, ttl: float = 3600, version: str | None = None) -> Approval:
    return Approval(
        id=f"id-{binding}-{version}",
        tool="fly_delete_volume",
        args={"app_name": "web", "volume_id": "vol_1"},
        description="Delete volume vol_1 in app web.",
        target={"kind": "volume", "app": "web", "id": "vol_1"},
        binding=binding,
        version=version,
        agent_id="ops-bot",
        created_at=START,
        expires_at=START + ttl,
    )


def test_a_question_reads_back_the_same_from_another_handle(store: ApprovalStore) -> None:
    stored = store.add(question())
    other = reopened(store)
    assert other.get(stored.id) == stored
    assert other.matching("b1") == [stored]
    assert other.entries() == [stored]
    assert other.get("nope") is None
    assert other.matching("b2") == []


def test_asking_again_reuses_the_pending_question(store: ApprovalStore) -> None:
    first = store.add(question())
    again = store.add(Approval.from_dict({**question().to_dict(), "id": "another"}))
    assert again == first
    assert [a.id for a in store.entries()] == [first.id]
    other_version = store.add(question(version="v2"))  # another state of the machine
    assert len(store.entries()) == 2
    assert other_version.id != first.id


def test_an_answer_records_who_when_and_why(store: ApprovalStore, clock: Clock) -> None:
    store.add(question())
    clock.advance(60)
    answered = store.answer("id-b1-None", "approved", "alice@laptop", "planned cleanup")
    assert reopened(store).get(answered.id) == answered
    assert (answered.status, answered.answered_by, answered.reason) == (
        "approved",
        "alice@laptop",
        "planned cleanup",
    )
    assert answered.answered_at == START + 60
    assert answered.expires_at == START + 60 + APPROVED_TTL


def test_only_a_pending_unexpired_question_can_be_answered(
    store: ApprovalStore, clock: Clock
) -> None:
    store.add(question())
    store.answer("id-b1-None", "rejected", "bob", "not today")
    with pytest.raises(ApprovalError, match="is rejected by bob; only a pending one"):
        store.answer("id-b1-None", "approved", "mallory", None)
    with pytest.raises(ApprovalError, match="no approval missing"):
        store.answer("missing", "approved", "alice", None)
    store.add(question("b2", ttl=10))
    clock.advance(11)
    with pytest.raises(ApprovalError, match="is expired"):
        store.answer("id-b2-None", "approved", "alice", None)
    assert store.get("id-b2-None").status_at(clock()) == "expired"  # type: ignore[union-attr]
    assert store.get("id-b1-None").answered_by == "bob"  # type: ignore[union-attr]


def test_an_approval_is_consumed_once_across_handles(store: ApprovalStore, clock: Clock) -> None:
    store.add(question())
    assert not store.consume("id-b1-None")  # pending: nothing to use
    store.answer("id-b1-None", "approved", "alice", None)
    other = reopened(store)
    assert [other.consume("id-b1-None"), store.consume("id-b1-None")] == [True, False]
    used = store.get("id-b1-None")
    assert used is not None
    assert (used.status, used.consumed_at) == ("spent", START)
    assert used.answered_by == "alice"


def test_an_expired_approval_cannot_be_consumed(store: ApprovalStore, clock: Clock) -> None:
    store.add(question())
    store.answer("id-b1-None", "approved", "alice", None)
    clock.advance(APPROVED_TTL + 1)
    assert not store.consume("id-b1-None")
    assert store.get("id-b1-None").status_at(clock()) == "expired"  # type: ignore[union-attr]


def test_the_binding_key_is_made_once_and_shared(store: ApprovalStore) -> None:
    key = store.binding_key()
    assert len(key) == 32
    assert reopened(store).binding_key() == key == store.binding_key()


def test_open_store_reads_paths_sqlite_urls_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = open_store(tmp_path / "a.db")
    assert isinstance(plain, SqliteApprovalStore)
    assert plain.path == tmp_path / "a.db"
    absolute = open_store(f"sqlite:///{tmp_path}/b.db")  # sqlite:/// + /abs path
    assert isinstance(absolute, SqliteApprovalStore)
    assert absolute.path == tmp_path / "b.db"
    monkeypatch.setenv("FLY_TOOLS_APPROVALS", str(tmp_path / "env.db"))
    assert open_store().location == str(tmp_path / "env.db")
    monkeypatch.delenv("FLY_TOOLS_APPROVALS")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert open_store().location == str(tmp_path / ".fly-tools" / "approvals.db")


def test_a_redis_url_names_no_password_anywhere() -> None:
    store = open_store("redis://:hunter2-pass@127.0.0.1:6399/3?prefix=team-a")
    assert isinstance(store, RedisApprovalStore)
    assert store.prefix == "team-a"
    assert "hunter2" not in store.location + repr(store)
    assert store.location == "redis://127.0.0.1:6399/3?prefix=team-a"


def test_an_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ApprovalError, match="unknown approvals store postgres://"):
        open_store("postgres://db/approvals")


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    store = SqliteApprovalStore(tmp_path / "private" / "approvals.db")
    store.binding_key()
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "private" / "approvals.db").stat().st_mode & 0o777 == 0o600


def test_a_file_that_is_not_a_database_fails_closed(tmp_path: Path) -> None:
    broken = tmp_path / "approvals.db"
    broken.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ApprovalError, match="cannot be used"):
        SqliteApprovalStore(broken).binding_key()
