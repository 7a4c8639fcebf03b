"""Imports point one way: no cycle between the clients or inside the fake, the library never
reaches into the no-account kit's scripted model or the demo, and the fake sits below the
agent layer; import cycles among the package's modules are counted and may not grow."""

from __future__ import annotations

import ast
from pathlib import Path

import fly_tools

PACKAGE = Path(fly_tools.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_by(module: str) -> set[str]:
    """Every module ``module`` names in an import, anywhere (lazy and type-only too)."""
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = path.with_suffix("") / "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_clients_do_not_import_each_other() -> None:
    assert "fly_tools.client.aio" not in imported_by("fly_tools.client.sync")
    assert "fly_tools.client.sync" not in imported_by("fly_tools.client.aio")


def test_the_demo_world_fills_the_state_without_the_facade() -> None:
    assert "fly_tools.testing.fake" not in imported_by("fly_tools.testing.world")


def test_the_library_does_not_import_the_scripted_model_or_the_demo() -> None:
    kit = ("fly_tools.testing.scripted", "fly_tools.demo")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        if module.startswith(("fly_tools.testing", "fly_tools.demo", "fly_tools.cli")):
            continue  # the kit itself, the demo, and the command that runs the demo
        if any(name.startswith(kit) for name in imported_by(module)):
            offenders.append(module)
    assert offenders == []


# The layers above the fake: an agent runtime, a server for models, a command line, the demo.
ABOVE_THE_FAKE = ("fly_tools.agents", "fly_tools.mcp", "fly_tools.cli", "fly_tools.demo")


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)  # cli, not client


def _modules_under(package: str) -> list[str]:
    return sorted(_module(p) for p in (PACKAGE.parent / package.replace(".", "/")).rglob("*.py"))


def test_the_fake_imports_nothing_from_the_layers_above_it() -> None:
    offenders = {
        module: sorted(n for n in imported_by(module) if _within(n, ABOVE_THE_FAKE))
        for module in _modules_under("fly_tools.testing")
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_the_demo_is_its_own_package_and_the_fake_does_not_hold_it() -> None:
    assert (PACKAGE / "demo" / "__init__.py").exists()
    assert not (PACKAGE / "testing" / "demo").exists()
    assert "fly_tools.demo" in imported_by("fly_tools.cli.commands")
