"""Token counting with a real o200k tokenizer (the npm package gpt-tokenizer, run offline by node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).parent


def ensure_tokenizer() -> bool:
    """Install gpt-tokenizer under benchmarks/node_modules if node and npm are present."""
    if (HERE / "node_modules" / "gpt-tokenizer").exists():
        return True
    if not (shutil.which("node") and shutil.which("npm")):
        return False
    result = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent"],
        cwd=HERE,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def count_tokens(texts: list[str]) -> tuple[list[int], str]:
    """o200k token counts for ``texts``, and the name of the method used.

    Falls back to characters / 3 (labelled as an estimate) when node is unavailable.
    """
    if ensure_tokenizer():
        out = subprocess.run(
            ["node", str(HERE / "count_tokens.mjs")],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout), "o200k_base (gpt-tokenizer)"
    return [round(len(t) / 3) for t in texts], "estimate: characters / 3 (node not found)"
