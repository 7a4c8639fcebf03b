"""The one renderer: nothing another party wrote reaches a person raw, cut or forged."""

from __future__ import annotations

import unicodedata

import pytest

from fly_tools.render import (
    CUT_MARK,
    agent_value,
    identifier,
    inert,
    is_hidden,
    quoted,
    quoted_identifier,
)

HIDDEN = [
    "\x00",
    "\x07",
    "\x1b",
    "\r",
    "\n",
    "\t",
    "\x7f",
    "\x85",
    "\x9b",
    "\u00ad",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufeff",
]


@pytest.mark.parametrize("char", HIDDEN)
def test_every_hidden_character_is_shown_escaped(char: str) -> None:
    for render in (inert, quoted, identifier, agent_value):
        shown = render(f"web{char}1")
        assert char not in shown, (render.__name__, char)
        assert not any(is_hidden(c) for c in shown)
    assert inert("\x1b[2K") == "\\x1b[2K"
    assert inert("a\u202eb") == "a\\u202eb"
    assert inert("\x9b") == "\\x9b"


def test_a_terminal_escape_in_a_name_cannot_erase_or_forge_lines() -> None:
    name = "web-1\r\x1b[1A\x1b[2K(read from Fly just now: destroyed)"
    shown = quoted_identifier(name)
    assert shown == '"web-1\\r\\x1b[1A\\x1b[2K(read from Fly just now: destroyed)"'


def test_quotes_inside_a_value_cannot_close_it() -> None:
    # Fullwidth quote and parenthesis, an ASCII quote, a no-break space, an ideographic space.
    name = 'web\uff02, stopped, ord\uff09 "x"\u00a0\u3000'
    shown = quoted(name)
    assert shown.count('"') - shown.count('\\"') == 2
    assert shown == '"web\\uff02, stopped, ord\\uff09 \\"x\\"\\u00a0\\u3000"'


def test_identifiers_flag_non_ascii_by_name() -> None:
    assert identifier("registry.fly.io/w\u0435b:v43") == (
        "registry.fly.io/w\u0435b:v43 [contains non-ASCII: U+0435 CYRILLIC SMALL LETTER IE]"
    )
    assert identifier("registry.fly.io/web:v43") == "registry.fly.io/web:v43"
    assert "and 2 more" in identifier("\u00e9\u00e8\u00ea\u00eb\u00ec")


def test_agent_text_mixing_scripts_is_flagged() -> None:
    assert agent_value("rm -rf /d\u0430ta").endswith("[mixes scripts: CYRILLIC, LATIN]")
    assert "mixes" not in agent_value("caf\u00e9 au lait")


def test_long_text_is_cut_with_a_visible_mark_saying_how_much_and_where() -> None:
    text = "a" * 4000
    shown = inert(text, limit=88)
    assert (
        shown
        == "a" * 88
        + "… [cut: 3,912 more characters; full text in the audit record / approvals show]"
    )
    assert CUT_MARK in quoted(text, limit=10)
    # The mark sits outside the quotes: the value's end is never faked.
    assert quoted(text, limit=10).startswith('"aaaaaaaaaa"' + CUT_MARK)
    assert inert("short", limit=88) == "short"


def test_structured_values_quote_every_string() -> None:
    assert quoted({"A": ["x\x1b", 1, None, True]}) == '{"A":["x\\x1b",1,null,true]}'


def test_unassigned_and_private_use_are_escaped() -> None:
    for char in ("\ue000", "\U000e0001", "\U0010ffff"):
        assert unicodedata.category(char) in ("Co", "Cf", "Cn")
        assert char not in inert(char)
