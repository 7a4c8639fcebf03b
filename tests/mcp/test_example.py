"""``examples/mcp_server.py`` runs offline and deletes only after the scripted approval."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mcp_server.py"


@pytest.mark.slow
def test_the_example_runs_and_deletes_once(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLE)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    # It lists with a client that cannot ask its user: the 6 gated tools are not shown.
    # Over MCP the machines' metadata and env reach the model as structured content, so
    # the listing comes fenced as text others wrote (docs/untrusted-text.md).
    assert run.stdout.startswith("23 tools; destructive: 5\nThe text inside the untrusted-data-")
    assert "declined -> error=True" in run.stdout
    assert (
        "requests that changed something: ['DELETE /v1/apps/web/volumes/vol_axx7q9eglqzwqihu']"
        in run.stdout
    )
