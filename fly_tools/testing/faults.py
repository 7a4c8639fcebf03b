"""Programmable faults: make the next N matching requests fail, reset or crawl.

``match`` selects requests: ``None`` or ``"*"`` for all; an endpoint name such as
``"fly_create_machine"``; or ``"[METHOD ]/path/pattern"``, where ``*`` matches one
path segment, ``**`` any number, and the ``/v1`` prefix is optional.

What each fault does:

- ``Fault.status(code)`` answers ``code`` (with ``Retry-After`` for 429) before the
  request reaches the state: nothing changes.
- ``Fault.reset(before=True)`` drops the connection before the request is handled
  (in-process: ``httpx.ConnectError``; nothing changes). ``before=False`` handles the
  request, then drops the connection (``httpx.RemoteProtocolError``): the change
  happened but the caller never hears of it. Over real HTTP both look like an aborted
  response, as they would on the wire.
- ``Fault.slow(seconds)`` handles the request, then delays the answer on the fake's
  clock. In-process, a delay beyond the request's read timeout raises
  ``httpx.ReadTimeout`` after the change happened. Over real HTTP the delay is real
  (scaled by a real clock's factor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "reset", "slow"]
_REASONS = {
    429: "rate limit exceeded",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


@dataclass(frozen=True)
class Fault:
    """One kind of misbehaviour; build with :meth:`status`, :meth:`reset` or :meth:`slow`."""

    kind: FaultKind
    code: int = 0
    retry_after: float | None = None
    before: bool = True
    seconds: float = 0.0

    @classmethod
    def status(cls, code: int, retry_after: float | None = None) -> Fault:
        """Answer ``code`` (e.g. 429, 503) without handling the request."""
        if not 400 <= code <= 599:
            raise ValueError("a fault status must be 4xx or 5xx")
        return cls("status", code=code, retry_after=retry_after)

    @classmethod
    def reset(cls, before: bool = True) -> Fault:
        """Drop the connection before (or after) handling the request."""
        return cls("reset", before=before)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Delay the answer by ``seconds`` of fake time."""
        if seconds <= 0:
            raise ValueError("seconds must be > 0")
        return cls("slow", seconds=seconds)

    @property
    def reason(self) -> str:
        """The error text of a status fault."""
        return _REASONS.get(self.code, "injected fault")

    def describe(self) -> str:
        """Short text for the request log."""
        if self.kind == "status":
            return f"status {self.code}"
        if self.kind == "reset":
            return "reset before" if self.before else "reset after"
        return f"slow {self.seconds:g}s"


@dataclass
class FaultRule:
    """An injected fault waiting for matching requests.

    Attributes:
        fault: what happens.
        remaining: how many more matching requests it applies to.
        match: the selector it was injected with.
    """

    fault: Fault
    remaining: int
    match: str | None = None

    def __post_init__(self) -> None:
        self._pattern = _compile(self.match)

    def applies(self, method: str, path: str, endpoint: str | None) -> bool:
        """Whether this rule takes the request (and if so, counts it)."""
        if self.remaining <= 0:
            return False
        selector = self.match
        hit = (
            selector in (None, "*")
            or selector == endpoint
            or (
                self._pattern is not None
                and self._pattern.fullmatch(f"{method} {path}") is not None
            )
        )
        if hit:
            self.remaining -= 1
        return hit


def _compile(selector: str | None) -> re.Pattern[str] | None:
    if selector is None or "/" not in selector:
        return None
    method, _, path = selector.strip().rpartition(" ")
    path = "/" + path.strip("/")
    if path == "/v1" or path.startswith("/v1/"):
        path = path[3:] or "/"
    pieces = re.split(r"(\*\*|\*)", path)
    regex = "".join({"**": ".*", "*": "[^/]+"}.get(p, re.escape(p)) for p in pieces)
    method_regex = re.escape(method.upper()) if method else r"[A-Z]+"
    return re.compile(rf"{method_regex} (?:/v1)?{regex}/?")
