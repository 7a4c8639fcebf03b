"""Import cycles among the package's modules: none at import time; the lazy ones may not grow."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import fly_tools

PACKAGE = Path(fly_tools.__file__).parent
Mode = Literal["import time", "anywhere"]

# Cycles that close only through an import inside a function or under TYPE_CHECKING: they
# never run at import time, but they tie modules together. Each is a known debt; a new one
# fails the test below, and removing one is a welcome edit of this list.
KNOWN_CYCLES: set[frozenset[str]] = set()
"""None left: a lazy or type-only import that closes a cycle fails here."""


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _targets(node: ast.Import | ast.ImportFrom, package: str) -> set[str]:
    """The modules an import statement names: ``from a import b`` is ``a.b`` when b is one."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}


def _statements(body: Iterable[ast.stmt], mode: Mode) -> Iterable[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported, or every one when ``anywhere``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _statements(node.orelse if mode == "import time" else node.body, mode)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if mode == "anywhere":
                yield from _statements(node.body, mode)
        else:  # class bodies, try/with/for blocks: their statements run with the module
            children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)]
            handlers = [s for h in getattr(node, "handlers", []) for s in h.body]
            yield from _statements([*children, *handlers], mode)


def _graph(mode: Mode) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        named = set().union(
            *(_targets(s, package) for s in _statements(ast.parse(path.read_text()).body, mode))
        )
        graph[module] = {n for n in named if n in MODULES and n != module}
    return graph


def import_cycles(mode: Mode) -> list[frozenset[str]]:
    return strongly_connected(_graph(mode))


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Groups of more than one module that reach each other (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = {stack.pop()}
            while module not in group:
                group.add(stack.pop())
            if len(group) > 1:
                found.append(frozenset(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back_at_import_time() -> None:
    assert import_cycles("import time") == []


def test_no_new_cycle_through_lazy_or_type_only_imports() -> None:
    cycles = import_cycles("anywhere")
    assert [sorted(c) for c in cycles if c not in KNOWN_CYCLES] == []


def test_the_finder_sees_the_cycles_it_is_shown() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert sorted(map(sorted, strongly_connected(graph))) == [["a", "b", "c"], ["d", "e"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_a_lazy_import_counts_only_when_asked_for() -> None:
    # The ledger imports signing inside a function: a tie, but not one that runs at import.
    assert "fly_tools.approvals.signing" in _graph("anywhere")["fly_tools.approvals.ledger"]
    assert "fly_tools.approvals.signing" not in _graph("import time")["fly_tools.approvals.ledger"]


if __name__ == "__main__":  # python -m tests.unit.test_import_cycles: the current count
    modes: tuple[Mode, ...] = ("import time", "anywhere")
    for mode in modes:
        print(f"{mode}: {len(import_cycles(mode))}")
        for cycle in import_cycles(mode):
            print("   ", " <-> ".join(sorted(cycle)))
