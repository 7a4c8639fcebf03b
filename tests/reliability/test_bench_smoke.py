"""The benchmark scripts keep working: every figure in quick mode, and the report writer."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from benchmarks import redis_server, run_all
from benchmarks.harness import Figure, Target


def _figure_params() -> list[object]:
    params: list[object] = []
    for number, (module, _) in sorted(run_all.FIGURES.items()):
        # Figures 1 and 7 serve the fake on 127.0.0.1 (7 also Redis); the others stay in-process.
        marks = [pytest.mark.enable_socket, pytest.mark.loopback] if number in (1, 7) else []
        if number == 7 and not redis_server.available():
            marks.append(pytest.mark.skip(reason="redis-server is not on PATH"))
        params.append(pytest.param(number, module, id=module, marks=marks))
    return params


@pytest.mark.parametrize(("number", "module_name"), _figure_params())
def test_each_figure_runs_in_quick_mode(number: int, module_name: str) -> None:
    module = importlib.import_module(f"benchmarks.{module_name}")

    figure = module.run(quick=True)

    assert isinstance(figure, Figure)
    assert figure.number == number
    assert figure.targets
    assert "|" in figure.body  # at least one table
    assert all(target.measured >= 0 for target in figure.targets)


def test_the_report_shows_machine_targets_verdicts_and_failures(tmp_path: Path) -> None:
    met = Target("ratio", 1.02, 1.10)
    missed = Target("tokens", 2500, 2000, "tokens")
    figure = Figure(5, "Scale", "| a |\n| --- |\n| 1 |", [met, missed], seconds=1.0)
    failure = run_all.Failure(6, "Cold start", "Traceback ...\nRuntimeError: boom")

    report = run_all.render([figure, failure], quick=False, seconds=3.0)

    assert "## Machine" in report
    assert "| Python | CPython" in report
    assert "| 5 | ratio | ≤ 1.10× | 1.02× | met |" in report
    assert "| 5 | tokens | ≤ 2,000 tokens | 2,500 tokens | **missed** |" in report
    assert "**figure failed**" in report
    assert "RuntimeError: boom" in report
    assert "1 of 3 targets met." in report
