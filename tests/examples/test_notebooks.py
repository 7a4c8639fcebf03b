"""The notebooks run top to bottom against the fake, and their committed outputs are current."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
# What legitimately changes from run to run: wall-clock times and durations.
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\(\d+ ms\)"), "(<n> ms)"),
]


def outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """Each code cell's text output, with times and durations masked."""
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for output in cell.outputs:
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.data.get("text/plain", ""))
            else:
                parts.append(f"{output.output_type}: {output.get('ename')}")
        text = "".join(parts)
        for pattern, mask in VOLATILE:
            text = pattern.sub(mask, text)
        texts.append(text)
    return texts


def test_the_three_notebooks_exist() -> None:
    assert [path.stem for path in NOTEBOOKS] == [
        "01_quickstart",
        "02_read_only_toolkit",
        "03_human_approval",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_and_matches_its_committed_outputs(path: Path, tmp_path: Path) -> None:
    committed = nbformat.read(path, as_version=4)
    assert all(
        cell.execution_count is not None for cell in committed.cells if cell.cell_type == "code"
    ), "commit the notebook with its outputs: jupyter execute --inplace"

    fresh = nbformat.read(path, as_version=4)
    # IPC keeps the kernel's channels on unix sockets: no TCP, not even loopback. Their
    # directory is short because socket paths are limited to about 100 characters.
    with tempfile.TemporaryDirectory(prefix="nb-") as sockets:
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=f"{sockets}/k")
        client = NotebookClient(
            fresh, km=kernel, timeout=60, resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()  # raises CellExecutionError on the first failing cell

    assert outputs(fresh) == outputs(committed)
    assert any("scripted model" in cell.source for cell in fresh.cells)
