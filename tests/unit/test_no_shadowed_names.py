"""The tests' own doubles never take a name the package exports: a reader knows which runs."""

from __future__ import annotations

import ast
from pathlib import Path

import fly_tools
import fly_tools.testing

TESTS = Path(__file__).resolve().parents[1]
EXPORTED = set(fly_tools.__all__) | set(fly_tools.testing.__all__)


def defined_names(source: str) -> set[str]:
    """Classes and functions a test module defines itself (its doubles and helpers)."""
    kinds = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
    return {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, kinds)}


def test_no_test_module_defines_a_name_the_package_exports() -> None:
    shadowing = {
        str(path.relative_to(TESTS)): sorted(defined_names(path.read_text()) & EXPORTED)
        for path in TESTS.rglob("*.py")
    }
    assert {path: names for path, names in shadowing.items() if names} == {}


def test_the_check_sees_a_double_named_like_the_fake() -> None:
    source = "class FakeFly:\n    pass\ndef f():\n    class FakeClock: ...\n"
    assert defined_names(source) & EXPORTED == {"FakeFly", "FakeClock"}
