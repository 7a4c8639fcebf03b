"""The README's tool table is generated from the catalogue and kept current."""

from __future__ import annotations

from pathlib import Path

from fly_tools import ENDPOINTS
from fly_tools.docs import README_BEGIN, README_END, readme_section, tools_markdown, tools_text

README = Path(__file__).parents[2] / "README.md"


def test_readme_table_is_current() -> None:
    text = README.read_text()
    assert README_BEGIN in text, "README lacks the generated tool table"
    assert README_END in text, "README lacks the end of the generated tool table"
    start = text.index(README_BEGIN)
    end = text.index(README_END) + len(README_END)
    assert text[start:end] == readme_section(), (
        "README tool table is out of date: run `python -m fly_tools.docs` and paste its output"
    )


def test_table_has_every_tool_with_tier_and_scopes() -> None:
    table = tools_markdown()
    assert table.count("\n| `fly_") == len(ENDPOINTS)
    assert "| `fly_delete_volume` | volumes | destructive | org, deploy |" in table
    assert "| `fly_list_apps` | apps | read | org, readonly |" in table
    assert "fly_exec_machine" in tools_text()
