"""The approvals store in one SQLite file: every process on one host shares it."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from fly_tools.approvals.entries import Approval, ApprovalError, Status
from fly_tools.approvals.ledger import answer_transition, same_pending, spend_transition
from fly_tools.approvals.signing import check_private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    binding TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_binding ON approvals (binding);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
_BUSY_TIMEOUT = 10.0


class SqliteApprovalStore:
    """Approvals in a SQLite file; writes take the file's write lock, so they are atomic.

    Args:
        path: the database file; made (mode 0600, its folder 0700) on first use.
        clock: wall clock for expiry (injectable for tests).
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.location = str(self.path)
        self.clock = clock
        self._ready = False

    def __repr__(self) -> str:
        return f"SqliteApprovalStore({str(self.path)!r})"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its start (no lost updates)."""
        with self._read() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(self._connect()) as db:
                yield db
        except sqlite3.Error as exc:
            # Locked past the busy timeout, unreadable, not a database: fail closed.
            raise ApprovalError(f"approvals store {self.path} cannot be used: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                # A file others may write would let them answer for a person or unspend.
                check_private_file(self.path)
            except PermissionError as exc:
                raise ApprovalError(str(exc)) from None
            self.path.touch(mode=0o600, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT, isolation_level=None)
        if not self._ready:
            db.executescript(_SCHEMA)
            self._ready = True
        return db

    def binding_key(self) -> bytes:
        """The store's secret for request bindings, made by whichever process comes first."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('binding_key', ?)",
                (secrets.token_bytes(32),),
            )
            (key,) = db.execute("SELECT value FROM meta WHERE name = 'binding_key'").fetchone()
        return bytes(key)

    def add(self, approval: Approval) -> Approval:
        """Store ``approval``, unless a pending one for its binding is already waiting."""
        with self._write() as db:
            for found in _rows(db, "WHERE binding = ? AND status = 'pending'", approval.binding):
                if same_pending(found, approval, self.clock()):
                    return found
            _insert(db, approval)
        return approval

    def get(self, approval_id: str) -> Approval | None:
        """The approval with this id, or ``None``."""
        with self._read() as db:
            found = _rows(db, "WHERE id = ?", approval_id)
        return found[0] if found else None

    def matching(self, binding: str) -> list[Approval]:
        """Approvals stored for this binding, newest first."""
        with self._read() as db:
            return _rows(db, "WHERE binding = ?", binding)

    def entries(self) -> list[Approval]:
        """Every stored approval, newest first."""
        with self._read() as db:
            return _rows(db, "")

    def answer(
        self,
        approval_id: str,
        status: Status,
        by: str,
        reason: str | None,
        *,
        expires_at: float | None = None,
        signature: str | None = None,
    ) -> Approval:
        """Answer a pending question (see :func:`~fly_tools.approvals.ledger.answer_transition`)."""
        now = self.clock()
        with self._write() as db:
            found = _rows(db, "WHERE id = ?", approval_id)
            answered = answer_transition(
                found[0] if found else None,
                approval_id,
                status,
                by,
                reason,
                now,
                expires_at=expires_at,
                signature=signature,
            )
            _update(db, answered, was="pending")
        return answered

    def consume(self, approval_id: str, signature: str | None = None) -> bool:
        """Spend an answer; ``True`` for exactly one caller."""
        now = self.clock()
        with self._write() as db:
            found = _rows(db, "WHERE id = ?", approval_id)
            spent = spend_transition(found[0] if found else None, now, signature)
            if spent is None:
                return False
            return _update(db, spent, was=found[0].status)


def _rows(db: sqlite3.Connection, where: str, *params: object) -> list[Approval]:
    query = f"SELECT data FROM approvals {where} ORDER BY created_at DESC"  # noqa: S608 - fixed clauses
    return [Approval.from_dict(json.loads(data)) for (data,) in db.execute(query, params)]


def _insert(db: sqlite3.Connection, approval: Approval) -> None:
    db.execute(
        "INSERT INTO approvals (id, binding, status, created_at, expires_at, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            approval.id,
            approval.binding,
            approval.status,
            approval.created_at,
            approval.expires_at,
            json.dumps(approval.to_dict()),
        ),
    )


def _update(db: sqlite3.Connection, approval: Approval, *, was: Status) -> bool:
    # The status test in the WHERE clause is what makes a change happen once, whatever
    # else is racing; the transaction's write lock makes it also see the latest row.
    cursor = db.execute(
        "UPDATE approvals SET status = ?, expires_at = ?, data = ? WHERE id = ? AND status = ?",
        (approval.status, approval.expires_at, json.dumps(approval.to_dict()), approval.id, was),
    )
    return cursor.rowcount == 1
