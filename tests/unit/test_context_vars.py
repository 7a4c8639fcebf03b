"""Every context variable the package reads is also set somewhere: none stays at its default."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import fly_tools

PACKAGE = Path(fly_tools.__file__).parent


def context_vars(source: str) -> set[str]:
    """Names bound to ``ContextVar(...)`` at module level."""
    found: set[str] = set()
    for node in ast.parse(source).body:
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.AnnAssign):
            value, targets = node.value, [node.target]
        if isinstance(value, ast.Call) and ast.unparse(value.func).endswith("ContextVar"):
            found.update(t.id for t in targets if isinstance(t, ast.Name))
    return found


def never_set(sources: dict[str, str]) -> list[str]:
    everything = "\n".join(sources.values())
    names = set().union(*(context_vars(s) for s in sources.values()))
    return sorted(n for n in names if not re.search(rf"\b{n}\.set\(", everything))


def test_every_context_variable_is_set_somewhere() -> None:
    sources = {str(p): p.read_text() for p in PACKAGE.rglob("*.py")}
    assert sum(len(context_vars(s)) for s in sources.values()) >= 1
    assert never_set(sources) == []


def test_the_check_sees_a_variable_that_is_only_read() -> None:
    source = "A: ContextVar[int] = ContextVar('a')\nB = contextvars.ContextVar('b')\n"
    assert never_set({"m": source + "A.get()\nB.set(1)\n"}) == ["A"]
