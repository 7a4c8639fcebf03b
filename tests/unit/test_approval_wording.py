"""docs/approval-wording.md is generated from the records' phrases, kept current, and reads right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fly_tools import ENDPOINTS
from fly_tools.catalogue import Phrase
from fly_tools.wording import DOC, EXAMPLES, asked, told, wording_markdown, write


def test_the_page_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == wording_markdown(), (
        "docs/approval-wording.md is out of date: run `python -m fly_tools.wording --write`"
    )


def test_the_page_has_every_operation_once() -> None:
    page = wording_markdown()
    assert page.count("\n| `fly_") == len(ENDPOINTS)
    for name in ENDPOINTS:
        assert page.count(f"| `{name}` |") == 1


def test_write_reports_whether_it_changed(tmp_path: Path) -> None:
    path = tmp_path / "wording.md"
    assert write(path) is True
    assert write(path) is False
    assert path.read_text(encoding="utf-8") == wording_markdown()


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_record_has_its_own_phrase_and_it_reads_right(name: str) -> None:
    endpoint = ENDPOINTS[name]
    assert isinstance(endpoint.phrase, Phrase), f"{name} needs phrase=Phrase(ask=..., done=...)"
    target = EXAMPLES[endpoint.target]
    question, trail = asked(endpoint, target), told(endpoint, target)
    for text in (question, trail):
        assert "fly_" not in text
        assert "_" not in text.replace("DATABASE_URL", "").replace("vol_abc123", "")
        # Words glued from tool names: "sign the with secret key", "verifyed",
        # "a secret key in secret key", "the acme certificate for certificate".
        assert not re.search(r"\bthe (with|for|of|in)\b", text), text
        assert not re.search(r"\b\w+[^o]yed\b", text), text
        assert not re.search(r"\b(\w+ \w+) (in|for|of) \1\b", text), text
        assert "  " not in text
    assert trail.startswith("ops-bot ")
    assert trail.endswith(".")
    assert "'s attempt" not in trail


def test_phrases_must_name_the_target_once_in_lower_case() -> None:
    for ask in ("stop", "Stop {target}", "stop {target} and {target}", " stop {target}"):
        with pytest.raises(ValueError, match="names \\{target\\} once"):
            Phrase(ask=ask, done="stopped {target}")
    assert Phrase("stop {target}", "stopped {target}").says("a {b}", past=True) == "stopped a {b}"
