"""The approvals store in Redis: agents and people on many hosts share it."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis

from fly_tools.approvals.entries import Approval, ApprovalError, Status
from fly_tools.approvals.ledger import answer_transition, same_pending, spend_transition

DEFAULT_PREFIX = "fly-tools:approvals"
RETAIN = 30 * 86_400
"""Seconds an approval's record is kept in Redis after its last change."""


class RedisApprovalStore:
    """Approvals in Redis; every change is a WATCH/MULTI transaction, so it happens once.

    Args:
        client: a redis-py client (``decode_responses`` off).
        prefix: namespace of the keys (one per team if teams share a Redis).
        location: where it is, for messages (never with a password).
        clock: wall clock for expiry (injectable for tests).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        location: str = "redis",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self.prefix = prefix
        self.location = location
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, *, clock: Callable[[], float] = time.time) -> RedisApprovalStore:
        """``redis://[:password@]host:port/db[?prefix=NAME]`` (also ``rediss://``, ``unix://``)."""
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = dict(query).get("prefix") or DEFAULT_PREFIX
        rest = urlencode([(k, v) for k, v in query if k != "prefix"])
        base = url.partition("?")[0]
        location = base.replace(parts.netloc, parts.netloc.rpartition("@")[2], 1)
        try:
            client = redis.Redis.from_url(f"{base}?{rest}" if rest else base)
        except ValueError:
            # The URL is not echoed: it may carry a password.
            raise ApprovalError(
                "the approvals store URL must look like redis://host:6379/0"
            ) from None
        suffix = f"?prefix={prefix}" if prefix != DEFAULT_PREFIX else ""
        return cls(client, prefix=prefix, location=location + suffix, clock=clock)

    def __repr__(self) -> str:
        return f"RedisApprovalStore({self.location!r})"

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _run(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except redis.RedisError as exc:
            raise ApprovalError(
                f"approvals store {self.location} unreachable ({type(exc).__name__}); "
                "nothing was approved or sent"
            ) from None

    def binding_key(self) -> bytes:
        """The store's secret for request bindings, made by whichever process comes first."""
        key = self._key("binding-key")
        self._run(lambda: self._redis.set(key, secrets.token_bytes(32), nx=True))
        value = self._run(lambda: self._redis.get(key))
        if not isinstance(value, bytes) or len(value) < 32:
            raise ApprovalError(f"approvals store {self.location} holds no usable binding key")
        return value

    def add(self, approval: Approval) -> Approval:
        """Store ``approval``, unless a pending one for its binding is already waiting."""
        index = self._key("binding", approval.binding)

        def add(pipe: Any) -> Approval:
            for found in self._read(pipe, pipe.zrevrange(index, 0, -1)):
                if same_pending(found, approval, self.clock()):
                    return found
            pipe.multi()
            self._write(pipe, approval)
            return approval

        return self._run(lambda: self._redis.transaction(add, index, value_from_callable=True))  # type: ignore[arg-type,no-any-return]

    def get(self, approval_id: str) -> Approval | None:
        """The approval with this id, or ``None``."""
        found = self._read(self._redis, [approval_id])
        return found[0] if found else None

    def matching(self, binding: str) -> list[Approval]:
        """Approvals stored for this binding, newest first."""
        ids = self._run(lambda: self._redis.zrevrange(self._key("binding", binding), 0, -1))
        return self._read(self._redis, ids)

    def entries(self) -> list[Approval]:
        """Every stored approval, newest first."""
        ids = self._run(lambda: self._redis.zrevrange(self._key("all"), 0, -1))
        return self._read(self._redis, ids)

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
        key = self._key("approval", approval_id)

        def answer(pipe: Any) -> Approval:
            found = self._read(pipe, [approval_id])
            answered = answer_transition(
                found[0] if found else None,
                approval_id,
                status,
                by,
                reason,
                self.clock(),
                expires_at=expires_at,
                signature=signature,
            )
            pipe.multi()
            self._write(pipe, answered)
            return answered

        return self._run(lambda: self._redis.transaction(answer, key, value_from_callable=True))  # type: ignore[arg-type,no-any-return]

    def consume(self, approval_id: str, signature: str | None = None) -> bool:
        """Spend an answer; ``True`` for exactly one caller."""
        key = self._key("approval", approval_id)

        def consume(pipe: Any) -> bool:
            found = self._read(pipe, [approval_id])
            spent = spend_transition(found[0] if found else None, self.clock(), signature)
            if spent is None:
                return False
            pipe.multi()
            self._write(pipe, spent)
            return True

        # A concurrent change to the watched key makes redis-py run ``consume`` again, so
        # the loser of a race reads "consumed" and gets False.
        return self._run(lambda: self._redis.transaction(consume, key, value_from_callable=True))  # type: ignore[arg-type,no-any-return]

    def _read(self, client: Any, ids: list[Any]) -> list[Approval]:
        names = [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
        if not names:
            return []
        raw = self._run(lambda: client.mget([self._key("approval", n) for n in names]))
        return [Approval.from_dict(json.loads(r)) for r in raw if r is not None]

    def _write(self, pipe: Any, approval: Approval) -> None:
        pipe.set(self._key("approval", approval.id), json.dumps(approval.to_dict()), ex=RETAIN)
        for index in (self._key("all"), self._key("binding", approval.binding)):
            pipe.zadd(index, {approval.id: approval.created_at})
            pipe.expire(index, RETAIN)
