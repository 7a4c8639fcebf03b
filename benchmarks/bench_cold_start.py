"""Figure 6: cold start of ``import fly_tools`` plus a toolkit, against LangChain's own imports."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks.harness import Figure, Target, table

OURS = "import fly_tools + a toolkit of all 31 tools"
IMPORT_ONLY = "import fly_tools"
LITERAL = "import langchain_core.tools"
EFFECTIVE = "from langchain_core.tools import StructuredTool"
SNIPPETS = {
    OURS: "import fly_tools\n"
    "fly_tools.FlyToolkit(client=fly_tools.FlyClient(token='fm2_cold-start-bench'), "
    "scope='org').get_tools()",
    IMPORT_ONLY: "import fly_tools",
    LITERAL: "import langchain_core.tools",
    EFFECTIVE: "from langchain_core.tools import StructuredTool",
}
TIMER = "import time\n_t = time.perf_counter()\n{code}\nprint(time.perf_counter() - _t)"
TARGET = 1.3
CLI_TARGET = 0.3
"""Seconds: ``fly-tools --help`` and ``--version`` from a fresh process, on this machine."""
CLI_FLAGS = ("--help", "--version")
CLI_ALONE = """
import sys, types
package = types.ModuleType("fly_tools")  # the package's own __init__ stands aside
package.__path__ = [{path!r}]
package.__version__ = "0"
sys.modules["fly_tools"] = package
import fly_tools.cli
try:
    fly_tools.cli.main([{flag!r}])
except SystemExit:
    pass
"""
ROOT = Path(__file__).resolve().parents[1]
CORE_VENV = ROOT / "benchmarks" / ".venv-core"


def fresh_process(code: str, *flags: str, python: str = sys.executable) -> tuple[float, float, str]:
    """Run ``code`` in a new interpreter: (seconds inside, wall seconds, stderr)."""
    # An installed package has its bytecode compiled (pip does it); so does the warm-up
    # here, which a PYTHONDONTWRITEBYTECODE inherited from the shell would prevent.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FLY_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    started = time.perf_counter()
    result = subprocess.run(
        [python, *flags, "-c", TIMER.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    wall = time.perf_counter() - started
    return float(result.stdout.strip().splitlines()[-1]), wall, result.stderr


def run(quick: bool = False) -> Figure:
    """Measure figure 6 (``quick``: one process each)."""
    started = time.perf_counter()
    repeats = 1 if quick else 15
    inside, wall = time_snippets(repeats, warm=not quick)
    median = {name: statistics.median(values) for name, values in inside.items()}
    ours = median[OURS]
    targets = [
        Target(f"cold start / `{LITERAL}` (the issue's baseline)", ours / median[LITERAL], TARGET),
        Target(f"cold start / `{EFFECTIVE}`", ours / median[EFFECTIVE], TARGET),
    ]
    sections = [
        f"Median of {repeats} fresh processes each, interleaved; import time is measured "
        "inside the process, wall time includes starting the interpreter.",
        _table(median, {name: statistics.median(values) for name, values in wall.items()}),
        _where_it_goes(),
        _notes(median),
    ]
    cli_wall, cli_alone = command_line_start(repeats)
    targets += [
        Target(f"`fly-tools {flag}` wall time (s)", cli_wall[flag], CLI_TARGET, unit="")
        for flag in CLI_FLAGS
    ]
    sections.append(_cli_note(cli_wall, cli_alone))
    core = None if quick else core_only_python()
    if core is not None:
        core_median = _core_only(core, repeats)
        ratio = core_median[OURS] / core_median[EFFECTIVE]
        targets.append(Target(f"cold start / `{EFFECTIVE}`, core-only install", ratio, TARGET))
        sections.append(_core_note(core_median, ratio))
    body = "\n\n".join(sections)
    return Figure(6, "Cold start", body, targets, time.perf_counter() - started)


def time_snippets(
    repeats: int, *, warm: bool
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds inside and wall seconds of every snippet, ``repeats`` fresh processes each."""
    inside: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    wall: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    if warm:
        for code in SNIPPETS.values():
            fresh_process(code)  # file caches warm, bytecode compiled
    names = list(SNIPPETS)
    for round_number in range(repeats):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, total, _ = fresh_process(SNIPPETS[name])
            inside[name].append(seconds)
            wall[name].append(total)
    return inside, wall


def command_line_start(repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall seconds of ``fly-tools --help``/``--version`` in fresh processes: as
    installed, and with the package's ``__init__`` bypassed (the command line's own cost)."""
    # An installed package has its bytecode compiled (pip does it); so does the warm-up
    # here, which a PYTHONDONTWRITEBYTECODE inherited from the shell would prevent.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FLY_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    script = Path(sys.executable).with_name("fly-tools")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "fly_tools.cli"]
    package = str(ROOT / "fly_tools")
    runs = {
        "installed": {flag: [*command, flag] for flag in CLI_FLAGS},
        "alone": {
            flag: [sys.executable, "-c", CLI_ALONE.format(path=package, flag=flag)]
            for flag in CLI_FLAGS
        },
    }
    medians: dict[str, dict[str, float]] = {"installed": {}, "alone": {}}
    for kind, argvs in runs.items():
        for flag, argv in argvs.items():
            subprocess.run(argv, capture_output=True, check=True, env=env)  # warm caches
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                subprocess.run(argv, capture_output=True, check=True, env=env, cwd=ROOT)
                times.append(time.perf_counter() - started)
            medians[kind][flag] = statistics.median(times)
    return medians["installed"], medians["alone"]


def _cli_note(installed: dict[str, float], alone: dict[str, float]) -> str:
    rows = [
        (f"`fly-tools {flag}`", f"{installed[flag] * 1e3:,.0f} ms", f"{alone[flag] * 1e3:,.0f} ms")
        for flag in CLI_FLAGS
    ]
    return (
        "Command-line start: wall time of a fresh `fly-tools` process (median), as "
        "installed, and with `fly_tools/__init__.py` bypassed, which is what the command "
        "line itself costs: it imports only its parser until a command runs. The "
        "difference is the package's own eager imports.\n\n"
        + table(["command", "as installed", "command line alone"], rows)
    )


def _table(median: dict[str, float], wall: dict[str, float]) -> str:
    rows = [
        (
            f"`{name}`",
            f"{median[name] * 1e3:,.0f} ms",
            f"{wall[name] * 1e3:,.0f} ms",
            f"{median[name] / median[LITERAL]:.2f}×",
            f"{median[name] / median[EFFECTIVE]:.2f}×",
        )
        for name in SNIPPETS
    ]
    headers = [
        "in a fresh interpreter",
        "import time",
        "process wall time",
        "vs import langchain_core.tools",
        "vs import StructuredTool",
    ]
    return table(headers, rows)


def _import_times(code: str) -> dict[str, tuple[int, int]]:
    """``-X importtime``: module -> (own µs, cumulative µs)."""
    _, _, stderr = fresh_process(code, "-X", "importtime")
    times = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, module = (part.strip() for part in line[12:].split("|"))
        if own.isdigit():
            times[module] = (int(own), int(cumulative))
    return times


def _where_it_goes() -> str:
    ours, theirs = _import_times(SNIPPETS[OURS]), _import_times(SNIPPETS[EFFECTIVE])
    packages: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for module, (own, _) in ours.items():
        if module not in theirs:
            packages[module.split(".")[0]] += own
            if module.startswith("fly_tools"):
                modules[module] += own
    rows = [(f"`{name}`", f"{us / 1e3:,.0f} ms") for name, us in packages.most_common(8)]
    own_rows = [(f"`{name}`", f"{us / 1e3:,.0f} ms") for name, us in modules.most_common(6)]
    return (
        "What `import fly_tools` loads beyond `from langchain_core.tools import "
        "StructuredTool`, own import time by top-level package, then fly_tools' slowest "
        "modules (one `-X importtime` run; each module's own time, without what it "
        "imports):\n\n"
        + table(["package", "import time"], rows)
        + "\n\n"
        + table(["fly_tools module", "import time"], own_rows)
    )


def _notes(median: dict[str, float]) -> str:
    build = median[OURS] - median[IMPORT_ONLY]
    return (
        f"Building the toolkit (31 tools) takes {build * 1e3:,.0f} ms of the total; the rest "
        f"is importing. `{LITERAL}` alone takes {median[LITERAL] * 1e3:,.0f} ms because langchain-core "
        "1.x loads that package lazily: it imports none of the tool machinery until a name "
        "such as `BaseTool` is used. Any tool, even a hand-written one, pays for "
        f"`{EFFECTIVE}` ({median[EFFECTIVE] * 1e3:,.0f} ms here), so that is the baseline "
        "that measures what fly_tools itself adds; both ratios are reported. httpx "
        "imports its optional command-line tool (rich, click, pygments) whenever those are "
        "installed, as they are in this environment: that part is not fly_tools' own."
    )


def core_only_python() -> str | None:
    """An interpreter with only fly-tools' core dependencies (what ``pip install fly-tools``
    gives), in benchmarks/.venv-core; the package is reinstalled from this tree each run."""
    python = CORE_VENV / "bin" / "python"
    steps = []
    if not python.exists():
        steps.append([sys.executable, "-m", "venv", str(CORE_VENV)])
        steps.append([str(python), "-m", "pip", "install", "--quiet", str(ROOT)])
    steps.append(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--force-reinstall",
            str(ROOT),
        ]
    )
    for step in steps:
        if subprocess.run(step, capture_output=True, check=False).returncode != 0:
            return None
    return str(python)


def _core_only(python: str, repeats: int) -> dict[str, float]:
    inside: dict[str, list[float]] = {OURS: [], EFFECTIVE: []}
    for name in inside:
        fresh_process(SNIPPETS[name], python=python)  # warm caches
    for _ in range(repeats):
        for name in inside:
            inside[name].append(fresh_process(SNIPPETS[name], python=python)[0])
    return {name: statistics.median(values) for name, values in inside.items()}


def _core_note(median: dict[str, float], ratio: float) -> str:
    return (
        "In a virtualenv holding only fly-tools and its core dependencies (langchain-core, "
        "pydantic, httpx, tenacity: what `pip install fly-tools` gives, with none of the "
        "test tools that make httpx load its command-line extras), median of the same "
        f"fresh processes: `{OURS}` {median[OURS] * 1e3:,.0f} ms, `{EFFECTIVE}` "
        f"{median[EFFECTIVE] * 1e3:,.0f} ms: {ratio:.2f}×."
    )


def main() -> int:
    print(run(quick="--quick" in sys.argv).body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
