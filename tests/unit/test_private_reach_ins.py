"""Modules use each other's public doors: private reach-ins across modules may only go down.

A reach-in is ``from x import _name`` (x another module), or ``obj._name`` where no class
or function of the reading module defines ``_name`` (so the object belongs to another
module); ``self._name`` inherited from a base class is a subclass's own business. Each
one ties a module to another's internals; the ceiling is the count left.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fly_tools"
CEILING = 2
"""The reach-ins left; lower it when one goes, never raise it."""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_here(tree: ast.Module) -> set[str]:
    """Private names this module defines: attributes it sets, fields, methods, globals."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # setattr(obj, "_x", ...), PrivateAttr names in strings
    return {n for n in names if _private(n)}


def reach_ins(path: Path, root: Path = PACKAGE.parent) -> Iterator[str]:
    """Where ``path`` reaches into another module's private names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _defined_here(tree)
    where = path.relative_to(root)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if _private(alias.name):
                    yield f"{where}:{node.lineno} from {node.module} import {alias.name}"
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue  # a subclass using what its base keeps for subclasses
            yield f"{where}:{node.lineno} .{node.attr}"


def all_reach_ins() -> list[str]:
    return [found for path in sorted(PACKAGE.rglob("*.py")) for found in reach_ins(path)]


def test_private_reach_ins_only_go_down() -> None:
    found = all_reach_ins()
    print(f"\n{len(found)} private reach-ins across modules:\n" + "\n".join(found))
    assert len(found) <= CEILING, "\n".join(found)


def test_the_counter_sees_both_kinds(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "from fly_tools.tools.pipeline import _UNSET\n"
        "class Mine:\n    def __init__(self):\n        self._kept = 1\n"
        "def read(toolkit, mine):\n    return toolkit._runtime, mine._kept, _UNSET\n",
        encoding="utf-8",
    )
    found = list(reach_ins(module, tmp_path))
    assert [f.split(" ", 1)[1] for f in found] == [
        "from fly_tools.tools.pipeline import _UNSET",
        "._runtime",
    ]
