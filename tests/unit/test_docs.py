"""The README's tool table is generated from the catalogue and kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from fly_tools import ENDPOINTS
from fly_tools.docs import (
    README_BEGIN,
    README_END,
    readme_section,
    tools_markdown,
    tools_text,
    write_readme,
)

README = Path(__file__).parents[2] / "README.md"


def test_readme_table_is_current() -> None:
    text = README.read_text()
    assert README_BEGIN in text, "README lacks the generated tool table"
    assert README_END in text, "README lacks the end of the generated tool table"
    start = text.index(README_BEGIN)
    end = text.index(README_END) + len(README_END)
    assert text[start:end] == readme_section(), (
        "README tool table is out of date: run `python -m fly_tools.docs --write`"
    )


def test_table_has_every_tool_with_tier_and_scopes() -> None:
    table = tools_markdown()
    assert table.count("\n| `fly_") == len(ENDPOINTS)
    assert "| `fly_delete_volume` | volumes | destructive | org, deploy |" in table
    assert "| `fly_list_apps` | apps | read | org, readonly |" in table
    assert "fly_exec_machine" in tools_text()


def test_write_replaces_only_the_generated_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_BEGIN}\n| stale |\n{README_END}\n\nAfter.\n")
    assert write_readme(readme) is True
    assert readme.read_text() == f"# Title\n\n{readme_section()}\n\nAfter.\n"
    assert write_readme(readme) is False


def test_write_refuses_a_readme_without_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    with pytest.raises(ValueError, match="lacks the markers"):
        write_readme(readme)
    assert readme.read_text() == "# Title\n"
