"""No module exports a name it only borrowed from the standard typing machinery."""

from __future__ import annotations

import ast
from pathlib import Path

import fly_tools

PACKAGE = Path(fly_tools.__file__).parent
BORROWED_FROM = ("typing", "typing_extensions", "collections.abc", "__future__")


def borrowed_exports(source: str) -> list[str]:
    """Names in ``__all__`` that the module imported from typing or collections.abc."""
    tree = ast.parse(source)
    borrowed = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module in BORROWED_FROM
        for alias in node.names
    }
    exported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            exported.update(ast.literal_eval(node.value))
    return sorted(exported & borrowed)


def test_no_module_exports_typing_names() -> None:
    found = {
        str(p.relative_to(PACKAGE)): borrowed_exports(p.read_text()) for p in PACKAGE.rglob("*.py")
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_the_check_sees_a_borrowed_export() -> None:
    source = "from typing import Any, TypeAlias\nX: TypeAlias = int\n__all__ = ['TypeAlias', 'X']\n"
    assert borrowed_exports(source) == ["TypeAlias"]
