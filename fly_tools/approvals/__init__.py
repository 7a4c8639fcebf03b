"""Approvals that survive restarts: gated calls wait in a store (SQLite or Redis) for a person.

A toolkit given ``confirm=StoreApproval(store)`` stores each gated call it is asked
about and refuses it as *pending*; a person answers from any terminal with
``fly-tools approvals approve ID`` (or ``reject``), and the agent's next identical call
uses the approval up, once across every process sharing the store.
"""

from __future__ import annotations

from fly_tools.approvals.entries import (
    Approval,
    ApprovalError,
    ApprovalStore,
    Status,
)
from fly_tools.approvals.hook import StoreApproval, request_binding
from fly_tools.approvals.stores import open_store

__all__ = [
    "Approval",
    "ApprovalError",
    "ApprovalStore",
    "Status",
    "StoreApproval",
    "open_store",
    "request_binding",
]
