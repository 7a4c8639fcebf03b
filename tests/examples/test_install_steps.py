"""Each example runs with only what its own install step brings, and `make examples` brings all.

An example names its step in its docstring (``Needs: pip install 'fly-tools[agents]'``).
It runs here with every other installed distribution hidden: importing a module that the
step would not install fails, as it would in a fresh environment.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
TIMEOUT = 120
ONLY_THESE = """
import json, runpy, sys
allowed = set(json.loads(sys.argv[1]))
class NotInstalled:
    # Third-party modules outside the install step are missing, as in a fresh environment.
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in allowed or top in sys.stdlib_module_names or top.startswith("_"):
            return None
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NotInstalled())
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def install_step(example: Path) -> str:
    """The ``pip install ...`` of the ``Needs:`` line in the example's docstring, as written."""
    found = re.search(r"^Needs: (pip install .+)$", example.read_text(encoding="utf-8"), re.M)
    assert found, f"{example.name} does not say what it needs (a 'Needs: pip install' line)"
    return found[1]


def needs(example: Path) -> list[str]:
    """The packages the example's install step names."""
    return shlex.split(install_step(example))[2:]


def make_examples_step() -> list[str]:
    """The packages `make examples` installs (``-e .[extras]`` read as fly-tools[extras])."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^EXAMPLES_INSTALL := (.+)$", makefile, re.M)
    assert line, "the Makefile has no EXAMPLES_INSTALL"
    words = [w for w in shlex.split(line[1]) if w != "-e"]
    return [f"fly-tools{w[1:]}" if w.startswith(".[") else w for w in words]


def distributions(requirements: Iterable[str]) -> set[str]:
    """Every distribution the requirements install, with their own requirements, by name."""
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name == "fly-tools":
            todo += [Requirement(text) for text in PROJECT["dependencies"]]
            for extra in requirement.extras:
                todo += [Requirement(text) for text in PROJECT["optional-dependencies"][extra]]
            continue
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(requirement.name) or []:
            wanted = Requirement(text)
            environments = [{"extra": extra} for extra in ("", *requirement.extras)]
            if wanted.marker is None or any(wanted.marker.evaluate(e) for e in environments):
                todo.append(wanted)
    return {key.split("[")[0] for key in seen}


def modules_of(names: set[str]) -> set[str]:
    """The top-level modules these distributions provide."""
    provided = metadata.packages_distributions()
    return {
        module
        for module, dists in provided.items()
        if any(canonicalize_name(d) in names for d in dists)
    }


def test_every_example_names_its_install_step() -> None:
    assert EXAMPLES
    for example in EXAMPLES:
        assert needs(example)[0].startswith("fly-tools"), example.name


def test_make_examples_installs_what_every_example_needs() -> None:
    everything = distributions(make_examples_step())
    for example in EXAMPLES:
        assert distributions(needs(example)) <= everything, example.name


def test_each_example_runs_with_only_its_install_step(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = {}
    for example in EXAMPLES:
        allowed = sorted(modules_of(distributions(needs(example))) | {"fly_tools"})
        processes[example.name] = subprocess.Popen(
            [sys.executable, "-c", ONLY_THESE, json.dumps(allowed), str(example)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    failures = {}
    try:
        for name, process in processes.items():
            out, err = process.communicate(timeout=TIMEOUT)
            if process.returncode != 0 or not out.strip():
                failures[name] = err.strip().splitlines()[-1:] or ["no output"]
    finally:
        for process in processes.values():
            process.kill()
    assert failures == {}


def test_hiding_a_distribution_is_noticed(tmp_path: Path) -> None:
    """The check can fail: without the agent runtime, the quickstart cannot start."""
    quickstart = ROOT / "examples" / "quickstart.py"
    allowed = sorted(modules_of(distributions(["fly-tools"])) | {"fly_tools"})
    done = subprocess.run(
        [sys.executable, "-c", ONLY_THESE, json.dumps(allowed), str(quickstart)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode != 0
    assert "No module named 'langchain" in done.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_the_readme_names_each_examples_install_step(example: Path) -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    readme = readme.split("## Examples and notebooks", 1)[1].split(" ## ", 1)[0]
    listed = readme.split(f"[`examples/{example.name}`](examples/{example.name})", 1)
    assert len(listed) == 2, f"the README does not list {example.name}"
    entry = listed[1].split("- [`", 1)[0]
    assert f"`{install_step(example)}`" in entry, example.name


def test_the_readme_tables_every_extra_with_what_it_installs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {
        cells[1].strip("`"): cells[2]
        for line in readme.splitlines()
        if line.startswith("| `") and len(cells := [c.strip() for c in line.split("|")]) > 3
    }
    for extra, requirements in PROJECT["optional-dependencies"].items():
        assert extra in rows, f"the README's extras table has no row for {extra}"
        for text in requirements:
            name = Requirement(text).name
            if name != "fly-tools" and extra != "test":
                assert name in rows[extra], (extra, name)
    assert f"Python {PROJECT['requires-python'].removeprefix('>=')} or newer" in readme
